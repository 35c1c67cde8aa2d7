import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/**
 * D1 mirror of each booking, written by its room. The room is the only authority on chat
 * tokens, so D1 records when each was issued but never the token itself: a copy of this
 * database must not grant access to any chat.
 */
export const bookings = sqliteTable(
  "bookings",
  {
    id: text("id").primaryKey(),
    customerId: text("customer_id").notNull(),
    providerId: text("provider_id").notNull(),
    serviceId: text("service_id"),
    scheduledAt: text("scheduled_at"),
    notes: text("notes"),
    status: text("status").notNull(),
    paymentStatus: text("payment_status").notNull(),
    providerAccepted: integer("provider_accepted", { mode: "boolean" }).notNull().default(false),
    customerChatTokenIssuedAt: text("customer_chat_token_issued_at"),
    providerChatTokenIssuedAt: text("provider_chat_token_issued_at"),
    chatActive: integer("chat_active", { mode: "boolean" }).notNull().default(false),
    chatTerminatedAt: text("chat_terminated_at"),
    chatTerminationReason: text("chat_termination_reason"),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
    /** Room-side version of this row; an older write never overwrites a newer one. */
    version: integer("version").notNull(),
  },
  (t) => [index("bookings_customer_idx").on(t.customerId), index("bookings_provider_idx").on(t.providerId)],
);

/**
 * Every accepted chat message, copied from its conversation's SQLite by the outbox: booking
 * messages carry `booking_id`, support messages (chatType `admin`) carry `support_provider_id`.
 */
export const messages = sqliteTable(
  "messages",
  {
    id: text("id").primaryKey(),
    bookingId: text("booking_id"),
    supportProviderId: text("support_provider_id"),
    seq: integer("seq").notNull(),
    senderId: text("sender_id").notNull(),
    senderRole: text("sender_role").notNull(),
    content: text("content").notNull(),
    chatType: text("chat_type").notNull().default("booking"),
    clientMessageId: text("client_message_id"),
    metadata: text("metadata", { mode: "json" }),
    isRead: integer("is_read", { mode: "boolean" }).notNull().default(false),
    createdAt: text("created_at").notNull(),
  },
  (t) => [
    uniqueIndex("messages_booking_seq_idx").on(t.bookingId, t.seq),
    uniqueIndex("messages_support_seq_idx").on(t.supportProviderId, t.seq),
    index("messages_listing_idx").on(t.createdAt, t.seq, t.id),
    index("messages_sender_idx").on(t.senderId),
  ],
);
