import type { ExportPage } from "../booking-room/room";
import type { ExportLine } from "../protocol";
import { bookingRoom } from "../rooms";
import { supportThread } from "../support/thread-stub";
import { bookingsOf } from "./conversations";

/** Messages per call to a room or thread while exporting. */
const PAGE = 200;

/**
 * Everything of `userId`'s (GDPR access and portability) as NDJSON, produced as it is read: each
 * booking they are a party of (from every shard) with its whole history from its room, as they
 * read it, and their read position; their support thread; then an `end` line with the counts.
 */
export function exportUser(env: Env, userId: string): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const chunks = exportChunks(env, userId);
  return new ReadableStream({
    async pull(controller) {
      const next = await chunks.next();
      if (next.done) controller.close();
      else if (next.value) controller.enqueue(encoder.encode(next.value));
    },
    async cancel() {
      await chunks.return(undefined);
    },
  });
}

const line = (value: ExportLine) => `${JSON.stringify(value)}\n`;

async function* exportChunks(env: Env, userId: string): AsyncGenerator<string> {
  yield line({ type: "export", userId, exportedAt: new Date().toISOString() });
  let bookings = 0;
  let messages = 0;
  for (const bookingId of await bookingsOf(env, userId)) {
    const room = bookingRoom(env, bookingId);
    for (let after: number | null = 0; after !== null; ) {
      const page: ExportPage | null = await room.exportPage(userId, after, PAGE);
      if (!page) break;
      if (after === 0) bookings++;
      messages += page.messages;
      yield page.ndjson;
      after = page.nextAfter;
    }
  }
  const thread = supportThread(env, userId);
  for (let after: number | null = 0; after !== null; ) {
    const page: ExportPage = await thread.exportPage(after, PAGE);
    messages += page.messages;
    yield page.ndjson;
    after = page.nextAfter;
  }
  yield line({ type: "end", bookings, messages });
}
