// node:crypto (nodejs_compat) is synchronous, so the booking room can issue and check tokens
// without an await, keeping every state change atomic inside one event.
import { createHmac, timingSafeEqual } from "node:crypto";

/** Compares two strings in time that depends only on their lengths, never on their contents. */
export function timingSafeEqualStrings(a: string, b: string): boolean {
  const left = Buffer.from(a, "utf8");
  const right = Buffer.from(b, "utf8");
  if (left.byteLength !== right.byteLength) {
    timingSafeEqual(left, left);
    return false;
  }
  return timingSafeEqual(left, right);
}

export function hmacSha256(secret: string, data: string | Uint8Array): Buffer {
  return createHmac("sha256", secret).update(data).digest();
}
