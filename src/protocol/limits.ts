/** Content limits shared by the server, the client SDK and tests. */
export const MAX_MESSAGE_CHARS = 4000;
export const MAX_METADATA_BYTES = 2048;
export const MAX_HISTORY_LIMIT = 100;
export const DEFAULT_HISTORY_LIMIT = 50;

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
