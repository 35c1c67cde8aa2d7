import { and, desc, eq, lt, type SQL } from "drizzle-orm";
import { z } from "zod";
import type { AdminFlagsQuery, AdminFlagsResponse, Flag } from "../protocol";
import type { Database } from "./client";
import { decodeCursor, encodeCursor } from "./cursor";
import { messageFlags } from "./schema";

export type NewFlag = typeof messageFlags.$inferInsert;

/** The last row's id: ids only grow, so pages never overlap. */
const Cursor = z.tuple([z.number().int()]);

/** Records a flag; the same message, kind and reporter again adds nothing. */
export function insertFlags(db: Database, rows: NewFlag[]) {
  return db.insert(messageFlags).values(rows).onConflictDoNothing();
}

/** `GET /chat/admin/flags`: contact-guard findings and reports, newest first. */
export async function listFlags(db: Database, q: AdminFlagsQuery): Promise<AdminFlagsResponse> {
  const filters: SQL[] = [];
  if (q.kind) filters.push(eq(messageFlags.kind, q.kind));
  if (q.bookingId) filters.push(eq(messageFlags.bookingId, q.bookingId));
  if (q.cursor) filters.push(lt(messageFlags.id, decodeCursor(Cursor, q.cursor)[0]));
  const rows = await db
    .select()
    .from(messageFlags)
    .where(and(...filters))
    .orderBy(desc(messageFlags.id))
    .limit(q.limit + 1);
  const shown = rows.slice(0, q.limit);
  const last = shown.at(-1);
  return {
    flags: shown.map((row): Flag => ({ ...row, reporterId: row.reporterId === "" ? null : row.reporterId })),
    nextCursor: rows.length > q.limit && last ? encodeCursor([last.id]) : null,
  };
}
