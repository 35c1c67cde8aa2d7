import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../src/app";
import { readIdentity, withIdentity } from "../src/sockets/identity-header";
import { api, BASE_URL, field } from "./helpers/api";
import { activeChat, createBooking, parties } from "./helpers/flow";
import { connect, openSocket } from "./helpers/socket";
import { signUserJwt } from "./helpers/users";

describe("edges found by the outside review", () => {
  it("answers an empty X-Chat-Token with 403 invalid_token, and lets admins send none or an empty one", async () => {
    const chat = await activeChat();
    const empty = { "X-Chat-Token": "" };
    const customer = await api("GET", `/chat/booking/${chat.bookingId}`, {
      jwt: chat.customer.jwt,
      headers: empty,
    });
    expect(customer.status).toBe(403);
    expect(field(customer.body, "error", "code")).toBe("invalid_token");
    const admin = await api("GET", `/chat/booking/${chat.bookingId}`, {
      jwt: chat.admin.jwt,
      headers: empty,
    });
    expect(admin.status, admin.text).toBe(200);
  });

  it("counts a user's sockets per role: an admin with a customer's id does not use up the customer's places", async () => {
    const p = await parties();
    const booking = await createBooking(p);
    const sameIdAdmin = { ...p.admin, id: p.customer.id, jwt: await signUserJwt(p.customer.id, "admin") };
    const admins = [];
    for (let i = 0; i < 4; i++) admins.push(await connect(booking.id, sameIdAdmin));
    const customer = await openSocket(booking.id, p.customer);
    expect(customer.response.status).toBe(101);
    customer.socket?.close();
    for (const s of admins) s.close();
  });

  it("treats a JWT that expires in the far future the same over HTTP and on sockets", async () => {
    const p = await parties();
    const booking = await createBooking(p);
    const forever = {
      ...p.customer,
      jwt: await signUserJwt(p.customer.id, "customer", { expiresIn: 1e306 }),
    };
    const http = await api("GET", `/bookings/${booking.id}`, { jwt: forever.jwt });
    const socket = await openSocket(booking.id, forever);
    expect(http.status).toBe(200);
    expect(socket.response.status).toBe(101);
    socket.socket?.close();
  });

  it("answers CORS preflights for allowed origins only", async () => {
    const preflight = (origin: string) =>
      exports.default.fetch(`${BASE_URL}/bookings`, {
        method: "OPTIONS",
        headers: {
          Origin: origin,
          "Access-Control-Request-Method": "POST",
          "Access-Control-Request-Headers": "authorization, content-type",
        },
      });
    const allowed = await preflight("https://app.spana.test");
    expect(allowed.status).toBeLessThan(300);
    expect(allowed.headers.get("Access-Control-Allow-Origin")).toBe("https://app.spana.test");
    expect(allowed.headers.get("Access-Control-Allow-Headers")?.toLowerCase()).toContain("authorization");
    const evil = await preflight("https://evil.example");
    expect(evil.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });

  it("refuses cross-origin browser sockets in production when ALLOWED_ORIGINS is unset, same origin allowed", async () => {
    const production = { ...env, ENVIRONMENT: "production", ALLOWED_ORIGINS: undefined };
    const upgrade = (origin: string) =>
      app.request(
        "https://chat.spana.test/me/ws",
        { headers: { Upgrade: "websocket", Origin: origin } },
        production,
      );
    const cross = await upgrade("https://evil.example");
    expect(cross.status).toBe(403);
    expect(field(await cross.json(), "error", "code")).toBe("origin_not_allowed");
    // Same origin passes the origin check and reaches authentication.
    expect((await upgrade("https://chat.spana.test")).status).toBe(401);
    // Development stays permissive.
    const dev = await app.request(
      "https://chat.spana.test/me/ws",
      { headers: { Upgrade: "websocket", Origin: "http://localhost:5173" } },
      { ...production, ENVIRONMENT: "development" },
    );
    expect(dev.status).toBe(401);
  });

  it("passes objects the verified identity only: no JWT, no bearer subprotocol, no chat token, no cookie", () => {
    const request = new Request("https://chat.spana.test/bookings/b/ws", {
      headers: {
        Upgrade: "websocket",
        Authorization: "Bearer secret-jwt",
        "Sec-WebSocket-Protocol": "spana-chat.v1, bearer.secret-jwt",
        "X-Chat-Token": "b_customer_secret",
        Cookie: "session=secret",
      },
    });
    const forwarded = withIdentity(request, { userId: "alice", role: "customer", expiresAt: 1 });
    const headers = [...forwarded.headers.entries()].map(([k, v]) => `${k}: ${v}`).join("\n");
    expect(headers).not.toContain("secret");
    expect(forwarded.headers.get("Sec-WebSocket-Protocol")).toBe("spana-chat.v1");
    expect(forwarded.headers.get("Upgrade")).toBe("websocket");
    expect(readIdentity(forwarded)).toEqual({ userId: "alice", role: "customer", expiresAt: 1 });
  });
});
