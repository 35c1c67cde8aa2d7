import type { PartyRole, SenderRole } from "../protocol";

export const READ_STATE_SCHEMA = [
  "CREATE TABLE read_cursors (party TEXT PRIMARY KEY, seq INTEGER NOT NULL)",
  "INSERT INTO read_cursors (party, seq) VALUES ('customer', 0), ('provider', 0)",
];

/** Who is looking: one of the parties, or an admin (whose reading never counts). */
export type Reader = PartyRole | "admin";

/** Each party's read cursor: every message up to `seq` has been read by that party. */
export class ReadState {
  /** Read for every message's summaries, so kept in memory; `forget` after a rollback. */
  private cached: Readonly<Record<PartyRole, number>> | undefined;

  constructor(private readonly sql: SqlStorage) {}

  cursors(): Readonly<Record<PartyRole, number>> {
    if (this.cached === undefined) {
      const rows = this.sql
        .exec<{ party: PartyRole; seq: number }>("SELECT party, seq FROM read_cursors")
        .toArray();
      const cursors = { customer: 0, provider: 0 };
      for (const row of rows) cursors[row.party] = row.seq;
      this.cached = Object.freeze(cursors);
    }
    return this.cached;
  }

  /** Moves a party's cursor forward (never back); returns whether it moved. */
  advance(party: PartyRole, seq: number): boolean {
    const moved = this.sql
      .exec("UPDATE read_cursors SET seq = ? WHERE party = ? AND seq < ? RETURNING seq", seq, party, seq)
      .toArray();
    this.forget();
    return moved.length > 0;
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
