import { z } from "zod";

/**
 * One line of an archive object: a message as D1 held it (its key, sender, content, metadata,
 * files and when it was erased, if it was). Read back only to erase a user's lines.
 */
export const ArchivedMessage = z.object({
  chatType: z.enum(["booking", "admin"]),
  conversationId: z.string(),
  seq: z.number().int(),
  id: z.string(),
  senderId: z.string(),
  senderRole: z.string(),
  content: z.string(),
  clientMessageId: z.string().nullable(),
  metadata: z.unknown(),
  createdAt: z.string(),
  attachments: z.unknown(),
  erasedAt: z.string().nullable(),
});
export type ArchivedMessage = z.infer<typeof ArchivedMessage>;

export const ARCHIVE_PREFIX = "messages/";
export const ARCHIVE_TYPE = "application/x-ndjson";

/**
 * An archive object's key: `messages/{day}/shard-{n}/{first createdAt}-{hash}.ndjson` (by day
 * first, so a day's objects list together). It follows from its first message alone, so a run that
 * repeats a batch after a crash writes the same key again instead of a second copy.
 */
export function archiveKey(shard: number, first: ArchivedMessage, hash: string): string {
  return `${ARCHIVE_PREFIX}${first.createdAt.slice(0, 10)}/shard-${shard}/${first.createdAt}-${hash}.ndjson`;
}

export function toNdjson(lines: readonly unknown[]): string {
  return lines.map((line) => `${JSON.stringify(line)}\n`).join("");
}

/** The lines of an archive object; a line that does not parse is an error, never skipped. */
export function parseNdjson(text: string): ArchivedMessage[] {
  return text
    .split("\n")
    .filter((line) => line.length > 0)
    .map((line) => ArchivedMessage.parse(JSON.parse(line)));
}

export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Writes an archive object and reads it back: only an object whose bytes hash to what was
 * written counts as archived (R2 also checks the hash on the way in).
 */
export async function putVerified(
  bucket: R2Bucket,
  key: string,
  body: string,
  customMetadata: Record<string, string>,
): Promise<void> {
  const sha256 = await sha256Hex(body);
  await bucket.put(key, body, { sha256, httpMetadata: { contentType: ARCHIVE_TYPE }, customMetadata });
  const stored = await bucket.get(key);
  if (!stored) throw new Error(`archive ${key} is missing right after it was written`);
  if ((await sha256Hex(await stored.text())) !== sha256) {
    throw new Error(`archive ${key} does not read back as written`);
  }
}
