import { env } from "cloudflare:workers";
import { SignJWT, UnsecuredJWT } from "jose";
import { describe, expect, it } from "vitest";
import { api, field } from "./helpers/api";
import { createBooking, parties } from "./helpers/flow";
import { connect, openSocket } from "./helpers/socket";
import { signUserJwt } from "./helpers/users";

const secret = () => new TextEncoder().encode(env.JWT_SECRET);

async function expectUnauthorized(jwt: string | undefined, label: string) {
  const res = await api("GET", "/chat/booking/anything/token", { jwt });
  expect(res.status, label).toBe(401);
  expect(res.headers.get("WWW-Authenticate"), label).toMatch(/^Bearer /);
  expect(field(res.body, "error", "code"), label).toBe("unauthorized");
}

describe("user JWTs", () => {
  it("rejects missing, malformed, expired, forged, unsigned and role-less tokens with 401", async () => {
    await expectUnauthorized(undefined, "missing");
    await expectUnauthorized("not-a-jwt", "malformed");
    await expectUnauthorized(await signUserJwt("u1", "customer", { expiresIn: -60 }), "expired");
    await expectUnauthorized(
      await signUserJwt("u1", "customer", { secret: "another-secret-0123456789abcdef" }),
      "forged",
    );
    await expectUnauthorized(
      new UnsecuredJWT({ role: "admin" }).setSubject("u1").setExpirationTime("1h").encode(),
      "alg none",
    );
    await expectUnauthorized(
      await new SignJWT({})
        .setProtectedHeader({ alg: "HS256" })
        .setSubject("u1")
        .setExpirationTime("1h")
        .sign(secret()),
      "no role",
    );
    await expectUnauthorized(await signUserJwt("u1", "superuser"), "unknown role");
    await expectUnauthorized(
      await new SignJWT({ role: "admin" })
        .setProtectedHeader({ alg: "HS256" })
        .setSubject("u1")
        .sign(secret()),
      "no exp",
    );
    await expectUnauthorized(
      await new SignJWT({ role: "admin" })
        .setProtectedHeader({ alg: "HS512" })
        .setSubject("u1")
        .setExpirationTime("1h")
        .sign(secret()),
      "unpinned algorithm",
    );
    await expectUnauthorized(await signUserJwt("has_underscore", "customer"), "id with _");
  });

  it("takes the user id from `id` when `sub` is absent, and accepts `provider` as an alias", async () => {
    const p = await parties();
    const booking = await createBooking(p);
    const byId = await new SignJWT({ role: "provider", id: p.provider.id })
      .setProtectedHeader({ alg: "HS256" })
      .setExpirationTime("1h")
      .sign(secret());
    const res = await api("GET", `/bookings/${booking.id}`, { jwt: byId });
    expect(res.status).toBe(200);
  });

  it("refuses a WebSocket upgrade without a valid JWT before upgrading", async () => {
    const p = await parties();
    const booking = await createBooking(p);
    const none = await openSocket(booking.id, null);
    expect(none.socket).toBeNull();
    expect(none.response.status).toBe(401);
    expect(none.response.headers.get("WWW-Authenticate")).toMatch(/^Bearer /);
    const expired = await openSocket(booking.id, null, {
      jwt: await signUserJwt(p.customer.id, "customer", { expiresIn: -1 }),
      via: "subprotocol",
    });
    expect(expired.response.status).toBe(401);
  });

  it("authenticates browsers through the bearer subprotocol and selects spana-chat.v1", async () => {
    const p = await parties();
    const booking = await createBooking(p);
    const { socket, response } = await openSocket(booking.id, p.customer, { via: "subprotocol" });
    expect(response.status).toBe(101);
    expect(response.headers.get("Sec-WebSocket-Protocol")).toBe("spana-chat.v1");
    socket?.close();
  });

  it("lets the booking's parties and admins connect, refuses others with 403 and unknown bookings with 404", async () => {
    const p = await parties();
    const stranger = await parties();
    const booking = await createBooking(p);
    for (const user of [p.customer, p.provider, p.admin]) (await connect(booking.id, user)).close();
    for (const user of [stranger.customer, stranger.provider]) {
      const { socket, response } = await openSocket(booking.id, user);
      expect(socket).toBeNull();
      expect(response.status).toBe(403);
    }
    const unknown = await openSocket(crypto.randomUUID(), p.customer);
    expect(unknown.response.status).toBe(404);
    expect(field(await unknown.response.json(), "error", "code")).toBe("booking_not_found");
  });

  it("answers a plain GET on each socket route with 426 and Upgrade: websocket, as documented", async () => {
    const p = await parties();
    const booking = await createBooking(p);
    for (const [path, user] of [
      [`/bookings/${booking.id}/ws`, p.customer],
      ["/me/ws", p.provider],
      ["/admin/ws", p.admin],
    ] as const) {
      const res = await api("GET", path, { jwt: user.jwt });
      expect(res.status, path).toBe(426);
      expect(res.headers.get("Upgrade"), path).toBe("websocket");
      expect(res.body, path).toMatchObject({ error: { code: "invalid_request" } });
    }
  });

  it("answers unknown routes with the JSON error shape", async () => {
    const res = await api("GET", "/nope");
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: { code: "not_found", message: expect.any(String) } });
  });
});
