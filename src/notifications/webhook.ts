import { hmacSha256 } from "../auth/crypto";
import type { Notification } from "../protocol";

/** A webhook call that has not answered by then failed; the consumer retries it with backoff. */
const WEBHOOK_TIMEOUT_MS = 5_000;

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, as the payment webhook is signed. */
export function signature(secret: string, body: string, unixSeconds: number): string {
  return `t=${unixSeconds},v1=${hmacSha256(secret, `${unixSeconds}.${body}`).toString("hex")}`;
}

/** POSTs one notification, signed; throws unless the receiver answers 2xx. */
export async function postNotification(
  target: { url: string; secret: string },
  notification: Notification,
): Promise<void> {
  const body = JSON.stringify(notification);
  const t = Math.floor(Date.now() / 1000);
  const response = await fetch(target.url, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      "X-Signature": signature(target.secret, body, t),
      "User-Agent": "spana-chat-notify/1",
    },
    body,
    signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
  });
  // The body is not needed; reading it frees the connection.
  await response.body?.cancel();
  if (!response.ok) throw new Error(`notification webhook answered ${response.status}`);
}
