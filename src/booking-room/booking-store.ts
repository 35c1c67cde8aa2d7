import { sql } from "drizzle-orm";
import type { DrizzleSqliteDODatabase } from "drizzle-orm/durable-sqlite";
import { type IssuedToken, verifyChatToken } from "../auth/chat-token";
import { Booking, type BookingStatus, type PartyRole, type UserRole } from "../protocol";
import { booking } from "./schema";

/** The booking row as the room stores it, tokens included. Never sent to a client as is. */
export type BookingRecord = typeof booking.$inferSelect;
export type NewBooking = typeof booking.$inferInsert;
export type BookingChanges = Partial<Omit<BookingRecord, "id" | "version">>;

type RoomDatabase = DrizzleSqliteDODatabase<Record<string, unknown>>;

/**
 * Reads and writes the room's single booking row. The row is read on every frame, so it is kept
 * in memory; every write drops the copy, and so must a rolled-back transaction (`forget`).
 */
export class BookingStore {
  /** undefined: not read since the last write. */
  private cached: BookingRecord | null | undefined;

  constructor(
    private readonly db: RoomDatabase,
    /** Whether the room has storage at all; an unknown booking id must not create any. */
    private readonly exists: () => boolean,
    /** Creates the room's storage, with its first booking row. */
    private readonly createStorage: () => void,
  ) {}

  get(): BookingRecord | null {
    if (this.cached === undefined) {
      this.cached = this.exists() ? (this.db.select().from(booking).get() ?? null) : null;
      if (this.cached) Object.freeze(this.cached);
    }
    return this.cached;
  }

  forget(): void {
    this.cached = undefined;
  }

  insert(record: NewBooking): void {
    this.createStorage();
    this.db.insert(booking).values(record).run();
    this.forget();
  }

  /** Applies a change and bumps the version, so the D1 copy knows it is behind. */
  update(changes: BookingChanges): void {
    this.db
      .update(booking)
      .set({ ...changes, version: sql`${booking.version} + 1` })
      .run();
    this.forget();
  }
}

/** The public view of a booking: the protocol's `Booking` fields, so no token or bookkeeping leaks. */
export function toPublicBooking(record: BookingRecord): Booking {
  return Booking.parse(record);
}

export function issuedTokens(record: BookingRecord): Record<PartyRole, IssuedToken> {
  return {
    customer: { role: "customer", userId: record.customerId, token: record.customerChatToken },
    provider: { role: "provider", userId: record.providerId, token: record.providerChatToken },
  };
}

/** Which party of this booking a caller is, if any: the user id and the JWT role must both match. */
export function partyOf(
  record: Pick<BookingRecord, "customerId" | "providerId">,
  who: { userId: string; role: UserRole },
): PartyRole | null {
  if (who.role === "customer" && who.userId === record.customerId) return "customer";
  if (who.role === "provider" && who.userId === record.providerId) return "provider";
  return null;
}

export function partyId(record: Pick<BookingRecord, "customerId" | "providerId">, party: PartyRole): string {
  return party === "customer" ? record.customerId : record.providerId;
}

/** A presented chat token is good only if it is this booking's token of the caller's own party. */
export function holdsChatToken(
  record: BookingRecord,
  who: { userId: string; role: UserRole },
  presented: string | undefined,
): boolean {
  if (presented === undefined) return false;
  const party = partyOf(record, who);
  const granted = verifyChatToken(presented, record.id, who.userId, issuedTokens(record));
  return party !== null && granted === party;
}

export function isTerminal(status: BookingStatus): boolean {
  return status === "completed" || status === "cancelled" || status === "declined";
}
