import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../src/app";
import { hmacSha256 } from "../src/auth/crypto";
import { signature } from "../src/notifications/webhook";
import { createBooking, parties } from "./helpers/flow";
import { signUserJwt } from "./helpers/users";

// Rotating a secret without downtime: the new one is set, the old one stays accepted as
// *_PREVIOUS until everything signed with it has expired, then *_PREVIOUS is removed.
const NEW_JWT = "rotated-jwt-secret-0123456789abcdef-new";
const NEW_PAYMENT = "rotated-payment-secret-0123456789-new-00";

/** The Worker as it runs with these variables (the objects' bindings are the test runtime's). */
const request = (path: string, init: RequestInit, vars: Record<string, string>) =>
  app.request(path, init, { ...env, ...vars });

describe("secret rotation", () => {
  it("accepts user JWTs under JWT_SECRET_PREVIOUS while it is set, and only then", async () => {
    const old = await signUserJwt("customer-rotating", "customer"); // under the current test secret
    const fresh = await signUserJwt("customer-rotating", "customer", { secret: NEW_JWT });
    const get = (jwt: string, vars: Record<string, string>) =>
      request("/chat/my-chats", { headers: { Authorization: `Bearer ${jwt}` } }, vars);
    const during = { JWT_SECRET: NEW_JWT, JWT_SECRET_PREVIOUS: env.JWT_SECRET };
    expect((await get(old, during)).status).toBe(200);
    expect((await get(fresh, during)).status).toBe(200);
    const after = { JWT_SECRET: NEW_JWT };
    expect((await get(old, after)).status).toBe(401);
    expect((await get(fresh, after)).status).toBe(200);
    // The previous secret is a secret too: short or reused ones are refused.
    expect((await get(fresh, { JWT_SECRET: NEW_JWT, JWT_SECRET_PREVIOUS: NEW_JWT })).status).toBe(500);
  });

  it("accepts payment webhooks signed with PAYMENT_WEBHOOK_SECRET_PREVIOUS while it is set", async () => {
    const p = await parties();
    const booking = await createBooking(p);
    const body = JSON.stringify({ bookingId: booking.id });
    const t = Math.floor(Date.now() / 1000);
    const signedWith = (secret: string) => ({
      method: "POST",
      body,
      headers: {
        "Content-Type": "application/json",
        "X-Signature": `t=${t},v1=${hmacSha256(secret, `${t}.${body}`).toString("hex")}`,
      },
    });
    const path = `/bookings/${booking.id}/payment`;
    const after = await request(path, signedWith(env.PAYMENT_WEBHOOK_SECRET), {
      PAYMENT_WEBHOOK_SECRET: NEW_PAYMENT,
    });
    expect(after.status).toBe(401);
    const during = {
      PAYMENT_WEBHOOK_SECRET: NEW_PAYMENT,
      PAYMENT_WEBHOOK_SECRET_PREVIOUS: env.PAYMENT_WEBHOOK_SECRET,
    };
    const paid = await request(path, signedWith(env.PAYMENT_WEBHOOK_SECRET), during);
    expect(paid.status, await paid.text()).toBe(200);
  });

  it("signs notifications with both secrets during a rotation, so either side can verify", () => {
    const body = '{"id":"n1"}';
    const header = signature(
      "new-notify-secret-0123456789abcdef",
      body,
      1_800_000_000,
      "old-notify-secret-0123456789abcdef",
    );
    const v1 = header
      .split(",")
      .filter((part) => part.startsWith("v1="))
      .map((part) => part.slice(3));
    const expected = (secret: string) => hmacSha256(secret, `1800000000.${body}`).toString("hex");
    expect(v1).toEqual([
      expected("new-notify-secret-0123456789abcdef"),
      expected("old-notify-secret-0123456789abcdef"),
    ]);
    expect(signature("new-notify-secret-0123456789abcdef", body, 1_800_000_000).split(",")).toHaveLength(2);
  });
});
