/** Content limits shared by the server, the client SDK and tests. */
/** Defaults; a deployment may change the first two (see the README's configuration table). */
export const MAX_MESSAGE_CHARS = 4000;
export const MAX_FRAME_BYTES = 64 * 1024;
export const MAX_METADATA_BYTES = 2048;
export const MAX_HISTORY_LIMIT = 100;
export const DEFAULT_HISTORY_LIMIT = 50;
/**
 * Messages one `join-booking` replays at most. A client further behind joins again from
 * `replayThrough` (the SDK does), so it pulls the backlog page by page and the room never sends
 * far ahead of what the client has taken, however often it is asked.
 */
export const REPLAY_LIMIT = 500;

/**
 * A `typing` event with `isTyping: true` lapses on the receiving side this long after it arrived,
 * unless another comes: a sender that vanished mid-word never leaves "typing..." on screen.
 */
export const TYPING_EXPIRES_MS = 6_000;
/** `typing` events a connection may send per second; the rest are dropped without an answer. */
export const TYPING_PER_SECOND = 2;

const encoder = new TextEncoder();

/** Characters as a person counts them (code points), not UTF-16 units. */
export function countChars(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

export function metadataBytes(metadata: Record<string, unknown>): number {
  return encoder.encode(JSON.stringify(metadata)).byteLength;
}
