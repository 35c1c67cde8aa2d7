import { and, desc, eq, gte, lt, type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import { messageCore } from "../conversation/present";
import {
  type AdminMessagesQuery,
  type AdminMessagesResponse,
  type ListedMessage,
  Metadata,
} from "../protocol";
import { type Database, database as databaseOf } from "./client";
import { fanOut, newestFirst } from "./fan-out";
import { messages } from "./schema";

/**
 * A shard's position is its last row's (createdAt, seq, id), the listing's total order: stable
 * however many messages arrive meanwhile, and seq keeps one conversation's messages of the same
 * millisecond in order.
 */
const Key = z.tuple([z.string(), z.number().int(), z.string()]);
type Key = z.infer<typeof Key>;

/** `total` counts matches up to this many (per request, not per table): past it, `totalCapped`. */
export const TOTAL_CAP = 1000;

/** Messages are stored with `toISOString()` times, so filters compare in the same form. */
const iso = (value: string) => new Date(value).toISOString();

/**
 * The filters as SQL. `chat_type = 'admin'` is written as a literal so SQLite can prove the
 * support listing's partial index applies (a bound parameter would hide the value from it).
 * test/query-plans.test.ts checks the plan of every combination.
 */
function filtersOf(q: AdminMessagesQuery): SQL[] {
  const filters: SQL[] = [];
  if (q.bookingId) filters.push(eq(messages.chatType, "booking"), eq(messages.conversationId, q.bookingId));
  if (q.senderId) filters.push(eq(messages.senderId, q.senderId));
  if (q.chatType === "admin") filters.push(sql`${messages.chatType} = 'admin'`);
  // Nearly every message is a booking's: walking the listing index and skipping the few others
  // beats finding them all by key and sorting them (`+` keeps SQLite from choosing the key).
  if (q.chatType === "booking") filters.push(sql`+${messages.chatType} = 'booking'`);
  if (q.since) filters.push(gte(messages.createdAt, iso(q.since)));
  if (q.until) filters.push(lt(messages.createdAt, iso(q.until)));
  return filters;
}

/** One shard's page after `after`, newest first. */
export function messagesPage(db: Database, q: AdminMessagesQuery, after: Key | null, limit: number) {
  const filters = filtersOf(q);
  if (after)
    filters.push(
      sql`(${messages.createdAt}, ${messages.seq}, ${messages.id}) < (${after[0]}, ${after[1]}, ${after[2]})`,
    );
  return db
    .select()
    .from(messages)
    .where(and(...filters))
    .orderBy(desc(messages.createdAt), desc(messages.seq), desc(messages.id))
    .limit(limit);
}

/** How many messages of one shard match, counting no further than `cap`: never the whole table. */
export function boundedCount(db: Database, q: AdminMessagesQuery, cap: number) {
  const matches = db
    .select({ one: sql`1` })
    .from(messages)
    .where(and(...filtersOf(q)))
    .limit(cap)
    .as("matches");
  return db.select({ n: sql<number>`count(*)` }).from(matches);
}

/**
 * `GET /chat/admin/messages`: the messages D1 holds (every shard), newest first, filtered.
 * `heldSince` is where D1's history starts when retention archives older messages to R2.
 */
export async function listMessages(
  shards: D1Database[],
  q: AdminMessagesQuery,
  heldSince: string | null,
): Promise<AdminMessagesResponse> {
  const [page, counts] = await Promise.all([
    fanOut<typeof messages.$inferSelect, Key>({
      shards,
      limit: q.limit,
      cursor: q.cursor,
      key: Key,
      keyOf: (row) => [row.createdAt, row.seq, row.id] as Key,
      page: (db, after, limit) => messagesPage(db, q, after, limit),
      compare: (a, b) => newestFirst([a.createdAt, a.seq, a.id], [b.createdAt, b.seq, b.id]),
    }),
    Promise.all(shards.map((shard) => boundedCount(databaseOf(shard), q, TOTAL_CAP + 1))),
  ]);
  const counted = counts.reduce((sum, [row]) => sum + (row?.n ?? 0), 0);
  return {
    messages: page.rows.map(toListed),
    total: Math.min(counted, TOTAL_CAP),
    ...(counted > TOTAL_CAP ? { totalCapped: true as const } : {}),
    nextCursor: page.nextCursor,
    heldSince,
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
