import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { type ArchivedMessage, parseNdjson } from "../../src/retention/archive-format";
import { d1Of } from "./d1";

/** Every archive object in R2 with its lines. */
export async function archiveObjects(): Promise<{ key: string; lines: ArchivedMessage[] }[]> {
  const found: { key: string; lines: ArchivedMessage[] }[] = [];
  let cursor: string | undefined;
  do {
    const listed = await env.ARCHIVES.list({ prefix: "messages/", ...(cursor ? { cursor } : {}) });
    for (const object of listed.objects) {
      const body = await env.ARCHIVES.get(object.key);
      found.push({ key: object.key, lines: parseNdjson((await body?.text()) ?? "") });
    }
    cursor = listed.truncated ? listed.cursor : undefined;
  } while (cursor);
  return found;
}

/** The archived lines of one booking, in seq order, with the key of the object each is in. */
export async function archivedLines(bookingId: string): Promise<(ArchivedMessage & { key: string })[]> {
  return (await archiveObjects())
    .flatMap(({ key, lines }) => lines.map((line) => ({ ...line, key })))
    .filter((line) => line.conversationId === bookingId)
    .sort((a, b) => a.seq - b.seq);
}

/**
 * Makes a booking's messages `days` old, in its room and in D1, as if they had been sent then:
 * what retention archives in a real deployment after that many days.
 */
export async function ageMessages(bookingId: string, days: number, seqs?: number[]): Promise<void> {
  const at = new Date(Date.now() - days * 24 * 60 * 60 * 1000).toISOString();
  const only = seqs ? ` AND seq IN (${seqs.join(",")})` : "";
  const { bookingRoom } = await import("../../src/rooms");
  await runInDurableObject(bookingRoom(env, bookingId), (_, state) => {
    state.storage.sql.exec(`UPDATE messages SET created_at = ? WHERE 1 = 1${only}`, at);
  });
  await d1Of(bookingId)
    .prepare(`UPDATE messages SET created_at = ? WHERE chat_type = 'booking' AND conversation_id = ?${only}`)
    .bind(at, bookingId)
    .run();
}
