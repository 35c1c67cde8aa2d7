import { eq } from "drizzle-orm";
import type { DrizzleSqliteDODatabase } from "drizzle-orm/durable-sqlite";
import type { PartyRole, SenderRole } from "../protocol";
import { readCursors } from "./schema";

/** Who is looking: one of the parties, or an admin (whose reading never counts). */
export type Reader = PartyRole | "admin";

/** Each party's read cursor: every message up to `seq` has been read by that party. */
export class ReadState {
  /** Read for every summary and delivery, so kept in memory; `forget` after a rollback. */
  private cached: Readonly<Record<PartyRole, number>> | undefined;

  constructor(private readonly db: DrizzleSqliteDODatabase<Record<string, unknown>>) {}

  /** The two cursors of a new booking; call in the transaction that creates it. */
  create(): void {
    this.db
      .insert(readCursors)
      .values([
        { party: "customer", seq: 0 },
        { party: "provider", seq: 0 },
      ])
      .run();
    this.forget();
  }

  cursors(): Readonly<Record<PartyRole, number>> {
    if (this.cached === undefined) {
      const cursors = { customer: 0, provider: 0 };
      for (const row of this.db.select().from(readCursors).all()) cursors[row.party] = row.seq;
      this.cached = Object.freeze(cursors);
    }
    return this.cached;
  }

  /** Moves a party's cursor forward (never back); returns whether it moved. One row when it does. */
  advance(party: PartyRole, seq: number): boolean {
    const current = this.cursors();
    if (seq <= current[party]) return false;
    this.db.update(readCursors).set({ seq }).where(eq(readCursors.party, party)).run();
    this.cached = Object.freeze({ ...current, [party]: seq });
    return true;
  }

  forget(): void {
    this.cached = undefined;
  }
}

export function otherParty(party: PartyRole): PartyRole {
  return party === "customer" ? "provider" : "customer";
}

/**
 * Whether a message counts as read from `reader`'s point of view: a message from the other
 * party is read once the reader read it; one's own message (or, for an admin, any message) is
 * read once its recipient read it.
 */
export function isReadFor(
  reader: Reader,
  message: { seq: number; senderRole: SenderRole },
  cursors: Record<PartyRole, number>,
): boolean {
  const sender: PartyRole = message.senderRole === "customer" ? "customer" : "provider";
  const recipient = otherParty(sender);
  const whoseCursor = reader !== "admin" && reader !== sender ? reader : recipient;
  return message.seq <= cursors[whoseCursor];
}
