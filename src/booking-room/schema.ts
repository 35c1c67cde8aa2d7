import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { bookkeepingColumns, publicBookingColumns } from "../db/booking-columns";
import type { BookingChange, PartyRole } from "../protocol";
import type { Audience } from "./audience";

export { consumerPositions, messages } from "../conversation/schema";

/**
 * The booking as its room holds it, chat tokens included: the one authority on its state. The
 * public `Booking` (protocol) and the D1 copy (db/schema) share its columns (db/booking-columns.ts).
 */
export const booking = sqliteTable("booking", {
  ...publicBookingColumns(),
  ...bookkeepingColumns(),
  paymentReference: text("payment_reference"),
  customerChatToken: text("customer_chat_token"),
  providerChatToken: text("provider_chat_token"),
  chatReadyAt: text("chat_ready_at"),
});

/** Each party's read cursor: every message up to `seq` has been read by that party. */
export const readCursors = sqliteTable("read_cursors", {
  party: text("party").$type<PartyRole>().primaryKey(),
  seq: integer("seq").notNull(),
});

/**
 * The booking's lifecycle, one row per change (a handful per booking): what each audience was
 * told, so inboxes and the admin feed can follow it by cursor as they follow the messages.
 */
export const bookingEvents = sqliteTable("booking_events", {
  id: integer("id").primaryKey(),
  /** The newest message seq when it happened: places the change among the messages. */
  atSeq: integer("at_seq").notNull(),
  /** A lifecycle change, or an admin's hiding of a message. */
  action: text("action").$type<BookingChange | "message-hidden">().notNull(),
  /** The frames for the parties' inboxes, each with who may see it (tokens only to their holder). */
  notices: text("notices", { mode: "json" }).$type<{ to: Audience[]; frame: string }[]>().notNull(),
  /** The admin feed's `booking-updated` frame, token-free. */
  feedFrame: text("feed_frame").notNull(),
});

/**
 * Objects that hold Socket.IO connections joined to this booking (src/socket-io/hub.ts): each is a
 * consumer of the log, sent every message in full while any of its connections is joined here.
 */
export const listeners = sqliteTable("listeners", {
  hub: integer("hub").primaryKey(),
});

/**
 * Files uploaded to this booking (the bytes are in R2 under `r2Key`): who uploaded them, and the
 * message that used them (`usedSeq`), or null while unused. Unused ones are deleted after an hour.
 */
export const attachments = sqliteTable("attachments", {
  id: text("id").primaryKey(),
  uploaderId: text("uploader_id").notNull(),
  uploaderRole: text("uploader_role").$type<PartyRole>().notNull(),
  name: text("name").notNull(),
  contentType: text("content_type").notNull(),
  size: integer("size").notNull(),
  r2Key: text("r2_key").notNull(),
  createdAt: integer("created_at").notNull(),
  usedSeq: integer("used_seq"),
});
