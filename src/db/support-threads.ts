import { desc, sql } from "drizzle-orm";
import { z } from "zod";
import type { D1MessageRow } from "../conversation/d1-copy";
import { Metadata, type SupportMessage } from "../protocol";
import { presentSupportMessage } from "../support/present";
import { type Database, database } from "./client";
import { supportThreads } from "./schema";

export type SupportThreadSummary = { providerId: string; messageCount: number; lastMessage: SupportMessage };

const MAX_THREADS = 200;

/** Records a thread's newest message, unless D1 already holds a newer one (copies may repeat). */
export function upsertSupportThread(db: Database, last: D1MessageRow) {
  return db
    .insert(supportThreads)
    .values({ providerId: last.conversationId, lastSeq: last.seq, lastAt: last.createdAt, lastMessage: last })
    .onConflictDoUpdate({
      target: supportThreads.providerId,
      set: {
        lastSeq: sql`excluded.last_seq`,
        lastAt: sql`excluded.last_at`,
        lastMessage: sql`excluded.last_message`,
      },
      setWhere: sql`excluded.last_seq > ${supportThreads.lastSeq}`,
    });
}

/** The stored newest message, as D1 keeps it. */
const LastMessage = z.object({
  id: z.string(),
  seq: z.number().int(),
  senderId: z.string(),
  senderRole: z.string(),
  content: z.string(),
  clientMessageId: z.string().nullable().default(null),
  metadata: z.unknown(),
  createdAt: z.string(),
  erasedAt: z.string().nullable().default(null),
});

/** One shard's most recent threads. */
export function supportThreadsPage(db: Database) {
  return db.select().from(supportThreads).orderBy(desc(supportThreads.lastAt)).limit(MAX_THREADS);
}

/** `GET /chat/support`: every provider's thread (every shard) with its newest message, most recent first. */
export async function listSupportThreads(shards: D1Database[]): Promise<SupportThreadSummary[]> {
  const pages = await Promise.all(shards.map((shard) => supportThreadsPage(database(shard))));
  return pages
    .flat()
    .sort((a, b) => (a.lastAt < b.lastAt ? 1 : a.lastAt > b.lastAt ? -1 : 0))
    .slice(0, MAX_THREADS)
    .map((row) => {
      const last = LastMessage.parse(row.lastMessage);
      return {
        providerId: row.providerId,
        messageCount: row.lastSeq,
        lastMessage: presentSupportMessage(row.providerId, {
          ...last,
          metadata: z.parse(z.nullable(Metadata), last.metadata ?? null),
        }),
      };
    });
}
