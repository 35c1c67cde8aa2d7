import { desc, eq, sql } from "drizzle-orm";
import type { DrizzleSqliteDODatabase } from "drizzle-orm/durable-sqlite";
import { z } from "zod";
import { chats } from "./schema";

/** At most this many chats are listed. */
export const MAX_CHATS = 200;

/** The fields of a summary the inbox files it by; the rest is kept as the room sent it. */
const SummaryKey = z.object({ bookingId: z.string(), lastActivityAt: z.string(), chatActive: z.boolean() });

/** What `GET /chat/my-chats` needs from the inbox: stored summaries, and which chats to ask live. */
export type StoredChat = { bookingId: string; lastActivityAt: string; summary: string };
export type StoredChats = { stored: StoredChat[]; live: string[] };

/** The inbox's list of the user's bookings, one row each, written per lifecycle change. */
export class ChatList {
  constructor(private readonly db: DrizzleSqliteDODatabase<Record<string, unknown>>) {}

  /** Whether a change from a room is newer than what this row holds (the durable guard against repeats). */
  isNewer(bookingId: string, eventId: number): boolean {
    const row = this.db
      .select({ eventId: chats.eventId })
      .from(chats)
      .where(eq(chats.bookingId, bookingId))
      .get();
    return row === undefined || row.eventId < eventId;
  }

  /** Files the summary a room sent with a lifecycle change. It comes from our own code; validated here anyway. */
  save(summary: string, eventId: number): void {
    const key = SummaryKey.parse(JSON.parse(summary));
    const row = {
      bookingId: key.bookingId,
      summary,
      live: key.chatActive,
      lastActivityAt: key.lastActivityAt,
      eventId,
    };
    this.db
      .insert(chats)
      .values(row)
      .onConflictDoUpdate({
        target: chats.bookingId,
        set: row,
        setWhere: sql`excluded.event_id > ${chats.eventId}`,
      })
      .run();
  }

  /** The newest stored summaries, and every chat that was open at its last change. */
  list(): StoredChats {
    const stored = this.db
      .select({ bookingId: chats.bookingId, lastActivityAt: chats.lastActivityAt, summary: chats.summary })
      .from(chats)
      .orderBy(desc(chats.lastActivityAt))
      .limit(MAX_CHATS)
      .all();
    const live = this.db
      .select({ bookingId: chats.bookingId })
      .from(chats)
      .where(eq(chats.live, true))
      .all()
      .map((row) => row.bookingId);
    return { stored, live };
  }
}
