import { and, desc, eq, ne } from "drizzle-orm";
import { z } from "zod";
import { database } from "../db/client";
import { erasures } from "../db/schema";
import { type Erasure, ErasureProgress, type ErasureStatus } from "../protocol";

/** Nothing erased yet. */
export const NO_PROGRESS: ErasureProgress = {
  conversations: 0,
  roomMessages: 0,
  supportMessages: 0,
  files: 0,
  d1Messages: 0,
  archiveObjects: 0,
  archivedMessages: 0,
  inboxes: 0,
};

/** The erasure of this user that has not finished, if one was asked for. */
export async function unfinishedErasure(d1: D1Database, userId: string): Promise<Erasure | null> {
  const [row] = await database(d1)
    .select()
    .from(erasures)
    .where(and(eq(erasures.userId, userId), ne(erasures.status, "done")))
    .orderBy(desc(erasures.createdAt))
    .limit(1);
  return row ? toErasure(row) : null;
}

export async function insertErasure(
  d1: D1Database,
  erasure: { id: string; userId: string; adminId: string; reason: string },
): Promise<Erasure> {
  const now = new Date().toISOString();
  const row = {
    ...erasure,
    status: "pending" as const,
    progress: NO_PROGRESS,
    createdAt: now,
    updatedAt: now,
    completedAt: null,
  };
  await database(d1).insert(erasures).values(row);
  return toErasure(row);
}

export async function getErasure(d1: D1Database, id: string): Promise<Erasure | null> {
  const [row] = await database(d1).select().from(erasures).where(eq(erasures.id, id));
  return row ? toErasure(row) : null;
}

export async function updateErasure(
  d1: D1Database,
  id: string,
  status: ErasureStatus,
  progress: ErasureProgress,
): Promise<void> {
  const now = new Date().toISOString();
  await database(d1)
    .update(erasures)
    .set({ status, progress, updatedAt: now, ...(status === "done" ? { completedAt: now } : {}) })
    .where(eq(erasures.id, id));
}

function toErasure(row: typeof erasures.$inferSelect): Erasure {
  return {
    id: row.id,
    userId: row.userId,
    status: row.status,
    reason: row.reason,
    progress: z.parse(ErasureProgress, row.progress),
    createdAt: row.createdAt,
    completedAt: row.completedAt,
  };
}
