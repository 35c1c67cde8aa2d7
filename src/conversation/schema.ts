import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import type { AttachmentRef, Metadata, SenderRole } from "../protocol";

/**
 * A conversation's log: every message, numbered 1, 2, 3... without gaps. It is the only thing a
 * message writes; everything else (D1, inboxes, the admin feed) follows it by cursor. No index:
 * each would be another row written per message (resends are found in memory, see resend-window.ts).
 */
export const messages = sqliteTable("messages", {
  seq: integer("seq").primaryKey(),
  id: text("id").notNull(),
  senderId: text("sender_id").notNull(),
  senderRole: text("sender_role").$type<SenderRole>().notNull(),
  content: text("content").notNull(),
  clientMessageId: text("client_message_id"),
  metadata: text("metadata", { mode: "json" }).$type<Metadata>(),
  createdAt: text("created_at").notNull(),
  /** The files it carries, or null. */
  attachments: text("attachments", { mode: "json" }).$type<AttachmentRef[]>(),
  /** What the contact guard found in it (kinds, as `phone`, `email`), or null when nothing or off. */
  contacts: text("contacts", { mode: "json" }).$type<string[]>(),
  /** The text the other party reads when CONTACT_POLICY is `mask` and contacts were found, or null. */
  maskedContent: text("masked_content"),
  /** When an admin hid it, or null. */
  hiddenAt: text("hidden_at"),
  /** When its author's data was erased (their content, metadata and files are gone), or null. */
  erasedAt: text("erased_at"),
});

/**
 * How far each consumer has got, as one row: written by the alarm that follows a burst of work,
 * not per message. Consumers drop repeats, so after a restart the object may resend what these
 * positions do not record yet.
 */
export const consumerPositions = sqliteTable("consumer_positions", {
  id: integer("id").primaryKey(),
  /** By consumer name: a StoredPosition (read through `readStoredPosition`, which knows older shapes). */
  positions: text("positions", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
});
