import { asc, lt } from "drizzle-orm";
import { getConfig } from "../config";
import { database } from "../db/client";
import { messages } from "../db/schema";
import { d1Shard, d1Shards } from "../db/shards";
import { stableHash } from "../stable-hash";
import { type ArchivedMessage, archiveKey, putVerified, toNdjson } from "./archive-format";
import { retentionCutoff } from "./cutoff";

/** Messages read, written to R2 and deleted from D1 per step: a bounded batch each time. */
const BATCH = 1000;
/**
 * Steps per run, over all shards: each is a few D1 queries and two R2 operations per day it
 * spans, so a run stays well inside a Worker invocation's 1,000 queries. A larger backlog goes
 * on in the next run (every 15 minutes: up to 19 million messages a day; docs/capacity.md).
 */
const MAX_STEPS_PER_RUN = 200;

/** Where a test can make the job fail between writing an archive and deleting from D1. */
export type ArchiveHooks = { afterWrite?: (key: string) => void | Promise<void> };

export type ArchiveReport = { cutoff: string | null; archived: number; objects: number };

/** The archived rows leave D1 with a note of whose messages the object holds, in one transaction. */
const FORGET_ARCHIVED = [
  "INSERT OR IGNORE INTO archived_senders (sender_id, object_key) SELECT DISTINCT value, ?1 FROM json_each(?2)",
  `DELETE FROM messages WHERE (chat_type, conversation_id, seq) IN (
     SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]') FROM json_each(?1))`,
];

/**
 * The retention job (the cron, every 15 minutes): every message older than D1_RETENTION_DAYS goes, shard by
 * shard and oldest first, to an NDJSON object in R2 per shard and day, which is read back and
 * checked; only then are exactly those messages deleted from D1. A crash between the two leaves
 * them in D1, and the next run writes the same object (same key, same or more lines) before
 * deleting them: nothing is lost or archived twice. Rooms keep their whole history regardless.
 */
export async function archiveExpired(
  env: Env,
  now = Date.now(),
  hooks: ArchiveHooks = {},
): Promise<ArchiveReport> {
  const cutoff = retentionCutoff(getConfig(env).retentionDays, now);
  const report: ArchiveReport = { cutoff, archived: 0, objects: 0 };
  if (!cutoff) return report;
  // The shards take turns, a batch each, so one shard's backlog does not hold the others back.
  const pending = new Set(d1Shards(env).keys());
  for (let steps = 0; pending.size > 0 && steps < MAX_STEPS_PER_RUN; ) {
    for (const shard of pending) {
      const archived = await archiveBatch(env, shard, cutoff, hooks, report);
      if (archived < BATCH) pending.delete(shard);
      if (++steps >= MAX_STEPS_PER_RUN) break;
    }
  }
  return report;
}

/** The oldest batch of one shard's expired messages to R2 and out of D1; how many it read. */
async function archiveBatch(
  env: Env,
  shard: number,
  cutoff: string,
  hooks: ArchiveHooks,
  report: ArchiveReport,
): Promise<number> {
  const d1 = d1Shard(env, shard);
  const rows = await database(d1)
    .select()
    .from(messages)
    .where(lt(messages.createdAt, cutoff))
    .orderBy(asc(messages.createdAt), asc(messages.seq), asc(messages.id))
    .limit(BATCH);
  for (const day of byDay(rows.map(toArchived))) {
    const key = await writeArchive(env.ARCHIVES, shard, day);
    await hooks.afterWrite?.(key);
    const ids = JSON.stringify(day.map((m) => [m.chatType, m.conversationId, m.seq]));
    const senders = JSON.stringify(day.map((m) => m.senderId));
    const [insert = "", remove = ""] = FORGET_ARCHIVED;
    await d1.batch([d1.prepare(insert).bind(key, senders), d1.prepare(remove).bind(ids)]);
    report.archived += day.length;
    report.objects++;
  }
  return rows.length;
}

function toArchived(row: typeof messages.$inferSelect): ArchivedMessage {
  return {
    chatType: row.chatType,
    conversationId: row.conversationId,
    seq: row.seq,
    id: row.id,
    senderId: row.senderId,
    senderRole: row.senderRole,
    content: row.content,
    clientMessageId: row.clientMessageId,
    metadata: row.metadata ?? null,
    createdAt: row.createdAt,
    attachments: row.attachments ?? null,
    erasedAt: row.erasedAt,
  };
}

/** Rows in time order, cut where the UTC day changes. */
function byDay(rows: ArchivedMessage[]): ArchivedMessage[][] {
  const days: ArchivedMessage[][] = [];
  for (const row of rows) {
    const current = days.at(-1);
    if (current?.[0] && current[0].createdAt.slice(0, 10) === row.createdAt.slice(0, 10)) current.push(row);
    else days.push([row]);
  }
  return days;
}

async function writeArchive(bucket: R2Bucket, shard: number, lines: ArchivedMessage[]): Promise<string> {
  const first = lines[0] as ArchivedMessage;
  const last = lines.at(-1) as ArchivedMessage;
  const hash = stableHash(`${first.chatType}/${first.conversationId}/${first.seq}`)
    .toString(16)
    .padStart(8, "0");
  const key = archiveKey(shard, first, hash);
  await putVerified(bucket, key, toNdjson(lines), {
    shard: String(shard),
    day: first.createdAt.slice(0, 10),
    messages: String(lines.length),
    first: `${first.createdAt} ${first.seq}`,
    last: `${last.createdAt} ${last.seq}`,
  });
  return key;
}
