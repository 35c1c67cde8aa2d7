import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { bookkeepingColumns, publicBookingColumns } from "./booking-columns";

/**
 * D1 mirror of each booking, written by its room. The room is the only authority on chat
 * tokens, so D1 records when each was issued but never the token itself: a copy of this
 * database must not grant access to any chat.
 */
export const bookings = sqliteTable(
  "bookings",
  { ...publicBookingColumns(), ...bookkeepingColumns() },
  (t) => [
    index("bookings_customer_idx").on(t.customerId),
    index("bookings_provider_idx").on(t.providerId),
    // Admins list bookings newest first.
    index("bookings_by_created").on(t.createdAt, t.id),
  ],
);

/**
 * Every accepted chat message, copied from its conversation's SQLite: a booking's (`chat_type`
 * `booking`, `conversation_id` the booking id) or a provider's support thread (`admin`, the
 * provider id). Keyed by (chat_type, conversation_id, seq) in a WITHOUT ROWID table (see the
 * migration), so a message costs three rows: the row itself and the two indexes admins search by.
 */
export const messages = sqliteTable(
  "messages",
  {
    chatType: text("chat_type").$type<"booking" | "admin">().notNull(),
    conversationId: text("conversation_id").notNull(),
    seq: integer("seq").notNull(),
    id: text("id").notNull(),
    senderId: text("sender_id").notNull(),
    senderRole: text("sender_role").notNull(),
    content: text("content").notNull(),
    clientMessageId: text("client_message_id"),
    metadata: text("metadata", { mode: "json" }),
    isRead: integer("is_read", { mode: "boolean" }).notNull().default(false),
    createdAt: text("created_at").notNull(),
    /** The files it carries (`[{id, name, contentType, size}]`), or null. */
    attachments: text("attachments", { mode: "json" }),
  },
  (t) => [
    primaryKey({ columns: [t.chatType, t.conversationId, t.seq] }),
    index("messages_listing_idx").on(t.createdAt, t.seq, t.id),
    index("messages_sender_idx").on(t.senderId),
  ],
);

/**
 * What a consumer refused for good (a message D1 will not take, a delivery a receiver keeps
 * failing on while it answers otherwise), set aside so that everything after it proceeds. Listed
 * for admins (`GET /chat/admin/dead-letters`) and counted on `/health`.
 */
export const deadLetters = sqliteTable("dead_letters", {
  id: integer("id").primaryKey(),
  /** `booking:{id}` or `support:{providerId}`. */
  source: text("source").notNull(),
  /** `d1`, `inbox:{role}:{userId}` or `feed:{shard}/{shards}`. */
  consumer: text("consumer").notNull(),
  /** Where in the source: `seq 12`, `event 3`, `read 9`. */
  position: text("position").notNull(),
  error: text("error").notNull(),
  /** What was refused, as JSON, for admins to inspect. */
  payload: text("payload"),
  createdAt: text("created_at").notNull(),
});

/**
 * Every time an admin looks at users' conversations: joining a booking, reading its history, a
 * support thread or the dead letters, searching messages, watching the live feed. Written before
 * the access is granted (no record, no access) and listed for admins (`GET /chat/admin/audit`), so
 * a privacy policy can point at it.
 */
export const adminAudit = sqliteTable(
  "admin_audit",
  {
    id: integer("id").primaryKey(),
    adminId: text("admin_id").notNull(),
    action: text("action").notNull(),
    /** What was looked at: a booking id, a provider id, a search's filters as JSON, a feed shard. */
    target: text("target").notNull(),
    at: text("at").notNull(),
  },
  (t) => [index("admin_audit_by_admin").on(t.adminId, t.id)],
);

/**
 * What admins should look at (`GET /chat/admin/flags`): messages the contact guard found contact
 * details in (`kind` `contact`, written with the D1 copy of the message), and messages a party
 * reported (`report`). One row per message and kind and reporter, so a retried copy or a repeated
 * report adds nothing.
 */
export const messageFlags = sqliteTable(
  "message_flags",
  {
    id: integer("id").primaryKey(),
    kind: text("kind").$type<"contact" | "report">().notNull(),
    bookingId: text("booking_id").notNull(),
    seq: integer("seq").notNull(),
    senderId: text("sender_id").notNull(),
    /** Who reported it; empty for the contact guard. */
    reporterId: text("reporter_id").notNull(),
    /** The report's reason, or the kinds of contact details found (`phone,email`). */
    reason: text("reason").notNull(),
    createdAt: text("created_at").notNull(),
  },
  (t) => [uniqueIndex("message_flags_once").on(t.bookingId, t.seq, t.kind, t.reporterId)],
);
