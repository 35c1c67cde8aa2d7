import { authenticateRequest } from "../auth/authenticate";
import { hmacSha256, timingSafeEqualStrings } from "../auth/crypto";
import type { Actor } from "../booking-room/lifecycle";
import { getConfig } from "../config";
import { ApiError, unwrap } from "../errors";
import { bookingRoom } from "../rooms";
import type { RouteHandlers } from "./serve";
import { throttle } from "./throttle";

export const SIGNATURE_HEADER = "X-Signature";

/** How old (or how far ahead) a signed webhook may be: a captured request cannot be replayed later. */
const SIGNATURE_TOLERANCE_SECONDS = 300;
/** `t` and at most four `v1` entries. */
const MAX_SIGNATURE_PARTS = 5;

/**
 * `X-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` under
 * PAYMENT_WEBHOOK_SECRET. The time is signed with the body, so it cannot be moved; several `v1`
 * entries may be sent while the provider rotates its secret.
 */
function signatureIsValid(header: string, rawBody: string, secrets: string[], now: number): boolean {
  const parts = header.split(",", MAX_SIGNATURE_PARTS + 1).map((part) => part.trim().split("="));
  // A rotation needs two or three entries; a header with more is refused before any is compared.
  if (parts.length > MAX_SIGNATURE_PARTS) return false;
  const t = parts.find(([key]) => key === "t")?.[1];
  const signatures = parts.filter(([key]) => key === "v1").map(([, value]) => value?.toLowerCase() ?? "");
  if (!t || !/^\d{1,12}$/.test(t) || signatures.length === 0) return false;
  if (Math.abs(now - Number(t)) > SIGNATURE_TOLERANCE_SECONDS) return false;
  // Under PAYMENT_WEBHOOK_SECRET, or its predecessor while we rotate ours (PAYMENT_WEBHOOK_SECRET_PREVIOUS).
  const expected = secrets.map((secret) => hmacSha256(secret, `${t}.${rawBody}`).toString("hex"));
  // Every pair is compared, so the time taken does not tell which one matched.
  return signatures
    .flatMap((candidate) => expected.map((e) => timingSafeEqualStrings(candidate, e)))
    .some(Boolean);
}

/**
 * `POST /bookings/:id/payment`: an admin's JWT, or the payment provider's signed webhook, which has
 * no JWT. The signature is checked before anything else is read of the request.
 */
export const confirmPayment: RouteHandlers["confirmPayment"] = async (c, { params, rawBody, body }) => {
  const bookingId = params.id;
  const signature = c.req.header(SIGNATURE_HEADER);
  let actor: Actor;
  if (signature !== undefined) {
    const now = Math.floor(Date.now() / 1000);
    const config = getConfig(c.env);
    const secrets = [config.paymentWebhookSecret, config.paymentWebhookSecretPrevious].filter(
      (s): s is string => s !== undefined,
    );
    if (!signatureIsValid(signature, await rawBody(), secrets, now)) {
      throw new ApiError(
        "invalid_signature",
        "The payment signature does not match the body, or is older than five minutes",
      );
    }
    actor = { kind: "payment-webhook" };
  } else {
    const identity = await authenticateRequest(c);
    if (identity.role !== "admin") {
      throw new ApiError("forbidden", "Only an admin or the payment webhook can confirm payment");
    }
    actor = { kind: "user", identity };
  }
  // Counted only once the caller is proven, so nobody can use up a booking's attempts for it.
  await throttle(c.env.PAYMENT_ATTEMPTS, bookingId, "payment attempts for this booking");
  const payment = await body();
  // The signature covers the body and a time, not the URL, so a webhook body must name its booking; otherwise one
  // signed body could be replayed against every booking's URL.
  if (actor.kind === "payment-webhook" && payment.bookingId === undefined) {
    throw new ApiError("invalid_request", "A payment webhook body must contain bookingId");
  }
  if (payment.bookingId !== undefined && payment.bookingId !== bookingId) {
    throw new ApiError("invalid_request", "bookingId in the body does not match the URL");
  }
  const room = bookingRoom(c.env, bookingId);
  return { body: { booking: unwrap(await room.confirmPayment(actor, payment.paymentReference ?? null)) } };
};
