import { Hono } from "hono";
import { type AppEnv, authenticateRequest } from "../auth/authenticate";
import { hmacSha256, timingSafeEqualStrings } from "../auth/crypto";
import type { Actor } from "../booking-room/lifecycle";
import { getConfig } from "../config";
import { ApiError, unwrap } from "../errors";
import { PaymentBody } from "../protocol";
import { bookingRoom } from "../rooms";
import { bookingIdParam, parseJsonText } from "../validation";

export const SIGNATURE_HEADER = "X-Signature";

/** `X-Signature: sha256=<hex HMAC-SHA256 of the raw body>` under PAYMENT_WEBHOOK_SECRET. */
function signatureIsValid(header: string, rawBody: string, secret: string): boolean {
  const expected = `sha256=${hmacSha256(secret, rawBody).toString("hex")}`;
  return timingSafeEqualStrings(header.trim().toLowerCase(), expected);
}

export const paymentRoute = new Hono<AppEnv>();

paymentRoute.post("/:id/payment", async (c) => {
  const bookingId = bookingIdParam(c);
  const rawBody = await c.req.text();
  const signature = c.req.header(SIGNATURE_HEADER);

  let actor: Actor;
  if (signature !== undefined) {
    if (!signatureIsValid(signature, rawBody, getConfig(c.env).paymentWebhookSecret)) {
      throw new ApiError(401, "invalid_signature", "The payment signature does not match the body");
    }
    actor = { kind: "payment-webhook" };
  } else {
    const identity = await authenticateRequest(c);
    if (identity.role !== "admin") {
      throw new ApiError(403, "forbidden", "Only an admin or the payment webhook can confirm payment");
    }
    actor = { kind: "user", identity };
  }

  const body = parseJsonText(PaymentBody, rawBody, actor.kind === "user");
  // The signature covers only the body, so a webhook body must name its booking; otherwise one
  // signed body could be replayed against every booking's URL.
  if (actor.kind === "payment-webhook" && body.bookingId === undefined) {
    throw new ApiError(400, "invalid_request", "A payment webhook body must contain bookingId");
  }
  if (body.bookingId !== undefined && body.bookingId !== bookingId) {
    throw new ApiError(400, "invalid_request", "bookingId in the body does not match the URL");
  }
  const booking = unwrap(
    await bookingRoom(c.env, bookingId).confirmPayment(actor, body.paymentReference ?? null),
  );
  return c.json({ booking });
});
