import { hmacSha256 } from "../auth/crypto";
import type { Notification } from "../protocol";

/** A webhook call that has not answered by then failed; the consumer retries it with backoff. */
const WEBHOOK_TIMEOUT_MS = 5_000;

/**
 * `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, as the payment webhook is signed; while
 * NOTIFY_WEBHOOK_SECRET_PREVIOUS is set, a second `v1` under it, so a receiver still on the old
 * secret keeps verifying during a rotation.
 */
export function signature(secret: string, body: string, unixSeconds: number, previous?: string): string {
  const v1 = (key: string) => `v1=${hmacSha256(key, `${unixSeconds}.${body}`).toString("hex")}`;
  return [`t=${unixSeconds}`, v1(secret), ...(previous ? [v1(previous)] : [])].join(",");
}

/** POSTs one notification, signed; throws unless the receiver answers 2xx. */
export async function postNotification(
  target: { url: string; secret: string; previousSecret?: string },
  notification: Notification,
): Promise<void> {
  const body = JSON.stringify(notification);
  const t = Math.floor(Date.now() / 1000);
  const response = await fetch(target.url, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      "X-Signature": signature(target.secret, body, t, target.previousSecret),
      "User-Agent": "spana-chat-notify/1",
    },
    body,
    signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
  });
  // The body is not needed; reading it frees the connection.
  await response.body?.cancel();
  if (!response.ok) throw new Error(`notification webhook answered ${response.status}`);
}
