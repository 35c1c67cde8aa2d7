import { sql } from "drizzle-orm";
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
  // Admins list bookings newest first, of one party or status or all: each filter has its own
  // index in that order, so a page reads only its rows (test/query-plans.test.ts).
  (t) => [
    index("bookings_by_customer").on(t.customerId, t.createdAt, t.id),
    index("bookings_by_provider").on(t.providerId, t.createdAt, t.id),
    index("bookings_by_status").on(t.status, t.createdAt, t.id),
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
    /** When its author's data was erased (POST /admin/users/:userId/erase), or null. */
    erasedAt: text("erased_at"),
  },
  (t) => [
    primaryKey({ columns: [t.chatType, t.conversationId, t.seq] }),
    index("messages_listing_idx").on(t.createdAt, t.seq, t.id),
    index("messages_by_sender").on(t.senderId, t.createdAt, t.seq, t.id),
    // Support messages are few: listing them alone must not walk every booking's messages, and a
    // partial index costs booking messages nothing.
    index("messages_support_listing")
      .on(t.chatType, t.createdAt, t.seq, t.id)
      .where(sql`chat_type = 'admin'`),
  ],
);

/**
 * What a consumer refused for good (a message D1 will not take, a delivery a receiver keeps
 * failing on while it answers otherwise), set aside so that everything after it proceeds. Listed
 * for admins (`GET /chat/admin/dead-letters`) and counted on `/health`.
 */
export const deadLetters = sqliteTable(
  "dead_letters",
  {
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
    /** When an admin retried it successfully or discarded it; null while it is unresolved. */
    resolvedAt: text("resolved_at"),
    resolution: text("resolution").$type<"retried" | "discarded">(),
    resolvedBy: text("resolved_by"),
  },
  // `/health` asks whether any is unresolved, without reading the resolved ones.
  (t) => [index("dead_letters_unresolved").on(t.id).where(sql`resolved_at IS NULL`)],
);

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
  (t) => [
    uniqueIndex("message_flags_once").on(t.bookingId, t.seq, t.kind, t.reporterId),
    // Newest first, all or of one kind (the rowid is in every index: `id` orders ties).
    index("message_flags_by_created").on(t.createdAt),
    index("message_flags_by_kind").on(t.kind, t.createdAt),
  ],
);

/**
 * One row per support thread, written with the D1 copy of its messages: `GET /chat/support` lists
 * the threads newest first from here instead of grouping every support message per request. Seqs
 * have no gaps, so the newest seq is the thread's message count.
 */
export const supportThreads = sqliteTable(
  "support_threads",
  {
    providerId: text("provider_id").primaryKey(),
    lastSeq: integer("last_seq").notNull(),
    lastAt: text("last_at").notNull(),
    /** The newest message as D1 stores it, so the list still shows it after retention archived it. */
    lastMessage: text("last_message", { mode: "json" }).notNull(),
  },
  (t) => [index("support_threads_by_last").on(t.lastAt)],
);

/**
 * Erasures of a user's data (POST /admin/users/:userId/erase), in the first database: who asked,
 * why, and how far the job got, so `GET /admin/erasures/:id` can say and a crash resumes it.
 */
export const erasures = sqliteTable(
  "erasures",
  {
    id: text("id").primaryKey(),
    userId: text("user_id").notNull(),
    adminId: text("admin_id").notNull(),
    reason: text("reason").notNull(),
    status: text("status").$type<"pending" | "running" | "done">().notNull(),
    /** What was erased so far, by place (JSON counts). */
    progress: text("progress", { mode: "json" }).notNull(),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
    completedAt: text("completed_at"),
  },
  (t) => [index("erasures_by_user").on(t.userId, t.createdAt)],
);

/**
 * Which archive objects (in R2, ARCHIVES) hold messages of which sender: written in the same
 * batch that deletes the archived messages from this database, so an erasure finds every archive
 * object it must rewrite without reading them all.
 */
export const archivedSenders = sqliteTable(
  "archived_senders",
  {
    senderId: text("sender_id").notNull(),
    objectKey: text("object_key").notNull(),
  },
  (t) => [primaryKey({ columns: [t.senderId, t.objectKey] })],
);
