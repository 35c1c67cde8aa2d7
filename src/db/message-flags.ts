import { and, desc, eq, type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import type { AdminFlagsQuery, AdminFlagsResponse, Flag } from "../protocol";
import type { Database } from "./client";
import { fanOut, newestFirst } from "./fan-out";
import { messageFlags } from "./schema";

export type NewFlag = typeof messageFlags.$inferInsert;

/** A shard's position is its last row's (createdAt, id): ids are unique in a shard. */
const Key = z.tuple([z.string(), z.number().int()]);
type Key = z.infer<typeof Key>;

/** Records a flag; the same message, kind and reporter again adds nothing. */
export function insertFlags(db: Database, rows: NewFlag[]) {
  return db.insert(messageFlags).values(rows).onConflictDoNothing();
}

/** One shard's page after `after`, newest first. */
export function flagsPage(db: Database, q: AdminFlagsQuery, after: Key | null, limit: number) {
  const filters: SQL[] = [];
  if (q.kind) filters.push(eq(messageFlags.kind, q.kind));
  if (q.bookingId) filters.push(eq(messageFlags.bookingId, q.bookingId));
  if (after) filters.push(sql`(${messageFlags.createdAt}, ${messageFlags.id}) < (${after[0]}, ${after[1]})`);
  return db
    .select()
    .from(messageFlags)
    .where(and(...filters))
    .orderBy(desc(messageFlags.createdAt), desc(messageFlags.id))
    .limit(limit);
}

/** `GET /chat/admin/flags`: contact-guard findings and reports (every shard), newest first. */
export async function listFlags(shards: D1Database[], q: AdminFlagsQuery): Promise<AdminFlagsResponse> {
  const page = await fanOut<typeof messageFlags.$inferSelect, Key>({
    shards,
    limit: q.limit,
    cursor: q.cursor,
    key: Key,
    keyOf: (row) => [row.createdAt, row.id] as Key,
    page: (db, after, limit) => flagsPage(db, q, after, limit),
    compare: (a, b) => newestFirst([a.createdAt, a.id], [b.createdAt, b.id]),
  });
  return {
    flags: page.rows.map(
      (row): Flag => ({ ...row, reporterId: row.reporterId === "" ? null : row.reporterId }),
    ),
    nextCursor: page.nextCursor,
  };
}
