import { sql } from "drizzle-orm";
import type { D1Mirror, MessageRow } from "../conversation/d1-outbox";
import type { StoredMessage } from "../conversation/message-store";
import { bookings } from "../db/schema";
import type { BookingStore } from "./booking-store";

/** The booking row for D1 when D1 is behind; an older version never overwrites a newer one. */
export function bookingMirror(store: BookingStore): D1Mirror | null {
  const b = store.get();
  if (!b || b.version <= b.d1Version) return null;
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
  return {
    statements: (db) => [
      db
        .insert(bookings)
        .values(row)
        .onConflictDoUpdate({
          target: bookings.id,
          set: changes,
          setWhere: sql`excluded.version > ${bookings.version}`,
        }),
    ],
    written: () => store.markMirrored(b.version),
  };
}

export function bookingMessageRow(bookingId: string) {
  return (m: StoredMessage): MessageRow => ({
    id: m.id,
    bookingId,
    supportProviderId: null,
    seq: m.seq,
    senderId: m.senderId,
    senderRole: m.senderRole,
    content: m.content,
    chatType: "booking",
    clientMessageId: m.clientMessageId,
    metadata: m.metadata,
    isRead: false,
    createdAt: m.createdAt,
  });
}
