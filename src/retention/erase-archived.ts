import { and, eq } from "drizzle-orm";
import { database } from "../db/client";
import { archivedSenders } from "../db/schema";
import { parseNdjson, putVerified, toNdjson } from "./archive-format";

const KEYS_PER_STEP = 50;

/**
 * Erases `userId`'s messages in the archive objects of one shard: each object that holds any
 * (archived_senders says which) is rewritten with their lines emptied and marked erased, read
 * back, and only then is its note dropped, so a crash midway redoes at most one object.
 */
export async function eraseFromArchives(
  d1: D1Database,
  bucket: R2Bucket,
  userId: string,
  erasedAt: string,
): Promise<{ objects: number; messages: number }> {
  const db = database(d1);
  const done = { objects: 0, messages: 0 };
  for (;;) {
    const notes = await db
      .select({ key: archivedSenders.objectKey })
      .from(archivedSenders)
      .where(eq(archivedSenders.senderId, userId))
      .limit(KEYS_PER_STEP);
    for (const { key } of notes) {
      const object = await bucket.get(key);
      if (object) {
        let erased = 0;
        const lines = parseNdjson(await object.text()).map((line) => {
          if (line.senderId !== userId || line.erasedAt !== null) return line;
          erased++;
          return { ...line, content: "", metadata: null, attachments: null, erasedAt };
        });
        if (erased > 0) await putVerified(bucket, key, toNdjson(lines), object.customMetadata ?? {});
        done.messages += erased;
      }
      await db
        .delete(archivedSenders)
        .where(and(eq(archivedSenders.senderId, userId), eq(archivedSenders.objectKey, key)));
      done.objects++;
    }
    if (notes.length < KEYS_PER_STEP) return done;
  }
}
