import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * One row per booking of the user's, written when its lifecycle changes (a handful of times per
 * booking), never per message: `GET /chat/my-chats` asks the rooms of live chats for their
 * current summary and takes the others from here, where they no longer change.
 */
export const chats = sqliteTable(
  "chats",
  {
    bookingId: text("booking_id").primaryKey(),
    /** The `ChatSummary` JSON as the room sent it with the change. */
    summary: text("summary").notNull(),
    /** Whether the chat was open then: its summary moves with every message, so it is read live. */
    live: integer("live", { mode: "boolean" }).notNull(),
    lastActivityAt: text("last_activity_at").notNull(),
    /** The room's newest lifecycle event this row reflects; older ones never overwrite it. */
    eventId: integer("event_id").notNull(),
  },
  (t) => [index("chats_by_activity").on(t.lastActivityAt)],
);
