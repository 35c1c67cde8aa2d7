import { env } from "cloudflare:workers";
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { hmacSha256 } from "../src/auth/crypto";
import { api } from "./helpers/api";
import { activeChat, createBooking, parties } from "./helpers/flow";
import { inOneRateWindow, RATE_WINDOW_TEST_TIMEOUT_MS } from "./helpers/rate-window";
import { inbox, joined, openSocket } from "./helpers/socket";
import { newAdmin, newProvider, signUserJwt } from "./helpers/users";

// The second outside attack run's weak spots on HTTP and in content: one limit per send path,
// reads rate-limited, JWTs and webhook signatures checked before they cost anything, strict
// numbers, and nothing stored differently from how it was sent.

const READS_PER_MINUTE = 120;
const SUPPORT_POSTS_PER_MINUTE = 20;

function expectRateLimited(res: { status: number; headers: Headers; body: unknown }) {
  expect(res.status).toBe(429);
  expect(res.body).toMatchObject({ error: { code: "rate_limited" } });
  expect(Number(res.headers.get("Retry-After"))).toBeGreaterThan(0);
}

describe("one limit per send path", () => {
  it(
    "limits support messages over the inbox socket exactly as over HTTP, sharing one budget",
    async () => {
      await inOneRateWindow();
      const provider = await newProvider();
      for (let i = 0; i < SUPPORT_POSTS_PER_MINUTE / 2; i++) {
        const res = await api("POST", "/chat/support/messages", {
          jwt: provider.jwt,
          body: { message: `http ${i}` },
        });
        expect(res.status, res.text).toBe(201);
      }
      const box = await inbox(provider);
      for (let i = 0; i < SUPPORT_POSTS_PER_MINUTE / 2; i++) {
        box.send("support-chat", { message: `socket ${i}`, clientMessageId: `s-${i}` });
        await box.expect("support-chat");
      }
      box.send("support-chat", { message: "one too many", clientMessageId: "s-last" });
      const refusal = await box.expect("chat-error");
      expect(refusal).toMatchObject({ code: "rate_limited", clientMessageId: "s-last" });
      expect(refusal.retryAfterMs).toBeGreaterThan(0);
      expectRateLimited(
        await api("POST", "/chat/support/messages", {
          jwt: provider.jwt,
          body: { message: "and over HTTP" },
        }),
      );
      box.close();
    },
    RATE_WINDOW_TEST_TIMEOUT_MS,
  );
});

describe("reads are rate-limited", () => {
  it(
    "answers 429 with Retry-After once a user has read too many history pages in a minute",
    async () => {
      await inOneRateWindow();
      const chat = await activeChat();
      const statuses: number[] = [];
      let last = null;
      for (let i = 0; i <= READS_PER_MINUTE; i++) {
        last = await api("GET", `/chat/booking/${chat.bookingId}?limit=100`, {
          jwt: chat.customer.jwt,
          headers: { "X-Chat-Token": chat.customerToken },
        });
        statuses.push(last.status);
      }
      // The customer read its chat token while the booking was set up: one read of the minute's.
      expect(statuses.filter((s) => s === 200)).toHaveLength(READS_PER_MINUTE - 1);
      expect(statuses.slice(READS_PER_MINUTE - 1)).toEqual([429, 429]);
      if (last) expectRateLimited(last);
      // The budget is the user's, on every read route.
      expectRateLimited(await api("GET", "/chat/my-chats", { jwt: chat.customer.jwt }));
      // Others read on.
      expect((await api("GET", "/chat/my-chats", { jwt: chat.provider.jwt })).status).toBe(200);
    },
    RATE_WINDOW_TEST_TIMEOUT_MS,
  );
});

describe("JWTs are checked before they cost anything", () => {
  it("refuses a correctly signed JWT of 120 KB", async () => {
    const p = await parties();
    const jwt = await new SignJWT({ role: "customer", padding: "x".repeat(120_000) })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(p.customer.id)
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode(env.JWT_SECRET));
    expect((await api("GET", "/chat/my-chats", { jwt })).status).toBe(401);
  });

  it("refuses a JWT issued a year from now", async () => {
    const p = await parties();
    const jwt = await new SignJWT({ role: "customer" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(p.customer.id)
      .setIssuedAt(Math.floor(Date.now() / 1000) + 365 * 86_400)
      .setExpirationTime("2y")
      .sign(new TextEncoder().encode(env.JWT_SECRET));
    expect((await api("GET", "/chat/my-chats", { jwt })).status).toBe(401);
  });

  it("accepts one spelling of a token only: padding or spare bits in the signature are refused", async () => {
    const p = await parties();
    expect((await api("GET", "/chat/my-chats", { jwt: p.customer.jwt })).status).toBe(200);
    expect((await api("GET", "/chat/my-chats", { jwt: `${p.customer.jwt}=` })).status).toBe(401);
    // A 256-bit HMAC is 43 base64url characters: the last carries 4 spare bits that decoders ignore.
    const [head, body, signature] = p.customer.jwt.split(".") as [string, string, string];
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const last = alphabet.indexOf(signature.at(-1) as string);
    const sibling = `${signature.slice(0, -1)}${alphabet[last | 1]}`;
    expect((await api("GET", "/chat/my-chats", { jwt: `${head}.${body}.${sibling}` })).status).toBe(401);
  });

  it("reads the bearer. subprotocol only on the socket routes", async () => {
    const p = await parties();
    const res = await api("GET", "/chat/my-chats", {
      headers: { Upgrade: "websocket", "Sec-WebSocket-Protocol": `spana-chat.v1, bearer.${p.customer.jwt}` },
    });
    expect(res.status).toBe(401);
    const booking = await createBooking(p);
    const { socket } = await openSocket(booking.id, p.customer, { via: "subprotocol" });
    expect(socket).not.toBeNull();
    socket?.close();
  });

  it("compares at most a few v1 entries of a webhook signature", async () => {
    const p = await parties();
    const booking = await createBooking(p);
    const body = JSON.stringify({ bookingId: booking.id });
    const t = Math.floor(Date.now() / 1000);
    const good = hmacSha256(env.PAYMENT_WEBHOOK_SECRET, `${t}.${body}`).toString("hex");
    const wrong = Array.from({ length: 2_000 }, (_, i) => `v1=${i.toString(16).padStart(64, "0")}`);
    const res = await api("POST", `/bookings/${booking.id}/payment`, {
      rawBody: body,
      headers: { "X-Signature": `t=${t},${wrong.join(",")},v1=${good}` },
    });
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ error: { code: "invalid_signature" } });
    const rotation = await api("POST", `/bookings/${booking.id}/payment`, {
      rawBody: body,
      headers: { "X-Signature": `t=${t},${wrong.slice(0, 2).join(",")},v1=${good}` },
    });
    expect(rotation.status, rotation.text).toBe(200);
  });
});

describe("strict input", () => {
  it("reads query numbers as decimal digits only", async () => {
    const chat = await activeChat();
    const read = (query: string) =>
      api("GET", `/chat/booking/${chat.bookingId}?${query}`, {
        jwt: chat.customer.jwt,
        headers: { "X-Chat-Token": chat.customerToken },
      });
    for (const query of [
      "limit=0x10",
      "limit=1e2",
      "limit=%205",
      "limit=0b11",
      "before=",
      "after=-1",
      "limit=5.0",
    ]) {
      const res = await read(query);
      expect(res.status, query).toBe(400);
      expect(res.body, query).toMatchObject({ error: { code: "invalid_request" } });
    }
    expect((await read("limit=16")).status).toBe(200);
    const admin = await newAdmin();
    expect((await api("GET", "/chat/admin/audit?limit=1e1", { jwt: admin.jwt })).status).toBe(400);
  });

  it("refuses a message of blank Braille patterns as empty", async () => {
    const chat = await activeChat();
    const socket = await joined(chat.bookingId, chat.customer, chat.customerToken);
    socket.send("booking-chat", {
      bookingId: chat.bookingId,
      chatToken: chat.customerToken,
      message: "\u2800\u2800 \u2800",
    });
    expect(await socket.expect("chat-error")).toMatchObject({ code: "message_empty" });
    socket.close();
  });

  it("refuses metadata numbers JSON cannot write back (1e400), instead of storing null", async () => {
    const chat = await activeChat();
    const socket = await joined(chat.bookingId, chat.customer, chat.customerToken);
    socket.sendRaw(
      `{"event":"booking-chat","data":{"bookingId":"${chat.bookingId}","chatToken":"${chat.customerToken}","message":"big","metadata":{"n":1e400}}}`,
    );
    expect(await socket.expect("chat-error")).toMatchObject({ code: "invalid_payload" });
    socket.close();
  });

  it("refuses an HTTP body that is not valid UTF-8", async () => {
    const p = await parties();
    const bytes = new Uint8Array([
      ...new TextEncoder().encode('{"providerId":"'),
      0xff,
      ...new TextEncoder().encode('"}'),
    ]);
    const res = await fetchRaw("/bookings", p.customer.jwt, bytes);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      error: { code: "invalid_request", message: expect.stringContaining("UTF-8") },
    });
  });
});

describe("what /health tells", () => {
  it("tells outsiders whether it is healthy, and admins also how many dead letters wait", async () => {
    const outsider = await api("GET", "/health");
    expect(outsider.status).toBe(200);
    expect(outsider.body).toEqual({ ok: true, status: "ok", problems: [] });
    const customer = await signUserJwt("someone", "customer");
    expect((await api("GET", "/health", { jwt: customer })).body).toEqual({
      ok: true,
      status: "ok",
      problems: [],
    });
    const admin = await newAdmin();
    const inside = await api("GET", "/health", { jwt: admin.jwt });
    expect(inside.body).toMatchObject({ ok: true, problems: [], deadLetters: expect.any(Number) });
  });
});

async function fetchRaw(path: string, jwt: string, body: Uint8Array): Promise<Response> {
  const { exports } = await import("cloudflare:workers");
  return exports.default.fetch(`http://spana.test${path}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${jwt}`, "Content-Type": "application/json" },
    body,
  });
}
