import { and, count, desc, eq, gte, lt, or, type SQL } from "drizzle-orm";
import { z } from "zod";
import { messageCore } from "../conversation/present";
import {
  type AdminMessagesQuery,
  type AdminMessagesResponse,
  type ListedMessage,
  Metadata,
} from "../protocol";
import type { Database } from "./client";
import { decodeCursor, encodeCursor } from "./cursor";
import { messages } from "./schema";

/**
 * The cursor is the last row's (createdAt, seq, id), the listing's total order: stable however
 * many messages arrive meanwhile, and seq keeps one conversation's messages of the same
 * millisecond in order.
 */
const Cursor = z.tuple([z.string(), z.number().int(), z.string()]);

/** Messages are stored with `toISOString()` times, so filters compare in the same form. */
const iso = (value: string) => new Date(value).toISOString();

/** `GET /chat/admin/messages`: every message in D1, newest first, filtered, with a real total. */
export async function listMessages(db: Database, q: AdminMessagesQuery): Promise<AdminMessagesResponse> {
  const filters: SQL[] = [];
  if (q.bookingId) filters.push(eq(messages.chatType, "booking"), eq(messages.conversationId, q.bookingId));
  if (q.senderId) filters.push(eq(messages.senderId, q.senderId));
  if (q.chatType) filters.push(eq(messages.chatType, q.chatType));
  if (q.since) filters.push(gte(messages.createdAt, iso(q.since)));
  if (q.until) filters.push(lt(messages.createdAt, iso(q.until)));
  const where = and(...filters);

  const page = [...filters];
  if (q.cursor) {
    const [createdAt, seq, id] = decodeCursor(Cursor, q.cursor);
    const older = or(
      lt(messages.createdAt, createdAt),
      and(eq(messages.createdAt, createdAt), lt(messages.seq, seq)),
      and(eq(messages.createdAt, createdAt), eq(messages.seq, seq), lt(messages.id, id)),
    );
    if (older) page.push(older);
  }
  const [totals, rows] = await db.batch([
    db.select({ total: count() }).from(messages).where(where),
    db
      .select()
      .from(messages)
      .where(and(...page))
      .orderBy(desc(messages.createdAt), desc(messages.seq), desc(messages.id))
      .limit(q.limit + 1),
  ]);
  const hasMore = rows.length > q.limit;
  const shown = rows.slice(0, q.limit);
  const last = shown.at(-1);
  return {
    messages: shown.map(toListed),
    total: totals[0]?.total ?? 0,
    nextCursor: hasMore && last ? encodeCursor([last.createdAt, last.seq, last.id]) : null,
  };
}

function toListed(row: typeof messages.$inferSelect): ListedMessage {
  return {
    ...messageCore({ ...row, metadata: z.parse(z.nullable(Metadata), row.metadata ?? null) }),
    chatType: row.chatType === "admin" ? "admin" : "booking",
    bookingId: row.chatType === "booking" ? row.conversationId : null,
    providerId: row.chatType === "admin" ? row.conversationId : null,
    senderRole: row.senderRole,
  };
}
