import { sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { database } from "../db/client";
import { bookings, messages } from "../db/schema";
import type { Message } from "../protocol";
import type { BookingRecord, BookingStore } from "./booking-store";
import type { MessageStore } from "./message-store";

/** How long the room waits after a write before flushing, so bursts share one D1 round trip. */
export const FLUSH_DELAY_MS = 50;
const MESSAGES_PER_FLUSH = 200;
/** D1 binds at most 100 parameters per statement; a message row binds 11. */
const ROWS_PER_INSERT = 9;
const MAX_BACKOFF_MS = 5 * 60_000;

export type FlushResult = { written: number; more: boolean };

/**
 * Copies the room's booking row and messages to D1. The room's SQLite is the source of truth;
 * D1 is written in batches by the alarm, retried until it succeeds, and each write is
 * idempotent (message ids are primary keys, booking rows carry a version) so a retry after a
 * partial failure never duplicates anything.
 */
export class D1Outbox {
  constructor(
    private readonly d1: D1Database,
    private readonly bookingStore: BookingStore,
    private readonly messageStore: MessageStore,
  ) {}

  hasPending(): boolean {
    const booking = this.bookingStore.get();
    return (booking !== null && booking.version > booking.d1Version) || this.messageStore.hasUnsynced();
  }

  async flush(): Promise<FlushResult> {
    const booking = this.bookingStore.get();
    if (!booking) return { written: 0, more: false };
    const pending = this.messageStore.unsynced(MESSAGES_PER_FLUSH);
    const mirrorBooking = booking.version > booking.d1Version;
    if (!mirrorBooking && pending.length === 0) return { written: 0, more: false };

    const db = database(this.d1);
    const statements: BatchItem<"sqlite">[] = [];
    if (mirrorBooking) statements.push(upsertBooking(db, booking));
    for (let i = 0; i < pending.length; i += ROWS_PER_INSERT) {
      const rows = pending.slice(i, i + ROWS_PER_INSERT).map(toMessageRow);
      statements.push(db.insert(messages).values(rows).onConflictDoNothing());
    }
    const [first, ...rest] = statements;
    if (first) await db.batch([first, ...rest]);

    if (mirrorBooking) this.bookingStore.markMirrored(booking.version);
    const last = pending.at(-1);
    if (last) this.messageStore.markSyncedThrough(last.seq);
    return { written: pending.length, more: this.hasPending() };
  }
}

function upsertBooking(db: ReturnType<typeof database>, b: BookingRecord) {
  const row = {
    id: b.id,
    customerId: b.customerId,
    providerId: b.providerId,
    serviceId: b.serviceId,
    scheduledAt: b.scheduledAt,
    notes: b.notes,
    status: b.status,
    paymentStatus: b.paymentStatus,
    providerAccepted: b.providerAccepted,
    customerChatTokenIssuedAt: b.customerTokenIssuedAt,
    providerChatTokenIssuedAt: b.providerTokenIssuedAt,
    chatActive: b.chatActive,
    chatTerminatedAt: b.chatTerminatedAt,
    chatTerminationReason: b.chatTerminationReason,
    createdAt: b.createdAt,
    updatedAt: b.updatedAt,
    version: b.version,
  };
  const { id: _id, createdAt: _createdAt, ...changes } = row;
  return db
    .insert(bookings)
    .values(row)
    .onConflictDoUpdate({
      target: bookings.id,
      set: changes,
      setWhere: sql`excluded.version > ${bookings.version}`,
    });
}

function toMessageRow(m: Message): typeof messages.$inferInsert {
  return {
    id: m.id,
    bookingId: m.bookingId,
    seq: m.seq,
    senderId: m.senderId,
    senderRole: m.senderRole,
    content: m.content,
    chatType: m.chatType,
    clientMessageId: m.clientMessageId,
    metadata: m.metadata,
    isRead: m.isRead,
    createdAt: m.createdAt,
  };
}

/** Exponential backoff for a failing D1, capped so a long outage is retried every few minutes. */
export function backoffMs(failures: number): number {
  return Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(failures, 10));
}
