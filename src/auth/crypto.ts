// node:crypto (nodejs_compat) is synchronous, so the booking room can issue and check tokens
// without an await, keeping every state change atomic inside one event.
import { createHmac, timingSafeEqual } from "node:crypto";

const encoder = new TextEncoder();

/** Compares two strings in time that depends only on their lengths, never on their contents. */
export function timingSafeEqualStrings(a: string, b: string): boolean {
  // TextEncoder is native; Buffer.from is a JS polyfill here and showed up in the benchmark's profile.
  const left = encoder.encode(a);
  const right = encoder.encode(b);
  if (left.byteLength !== right.byteLength) {
    timingSafeEqual(left, left);
    return false;
  }
  return timingSafeEqual(left, right);
}

export function hmacSha256(secret: string, data: string | Uint8Array): Buffer {
  return createHmac("sha256", secret).update(data).digest();
}
