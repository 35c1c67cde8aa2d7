import { env } from "cloudflare:workers";
import { SignJWT, UnsecuredJWT } from "jose";
import { describe, expect, it } from "vitest";
import { HistoryResponse } from "../src/protocol";
import { type ApiResponse, api } from "./helpers/api";
import { type ActiveChat, activeChat } from "./helpers/flow";
import { joined, openSocket } from "./helpers/socket";
import { newAdmin, signUserJwt, type TestUser } from "./helpers/users";

/** A small seeded PRNG (mulberry32), so every run fuzzes the same inputs and a failure reproduces. */
function random(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WEIRD_VALUES: unknown[] = [
  null,
  true,
  0,
  -1,
  1.5,
  "",
  " ",
  "x".repeat(5000),
  [],
  {},
  [1, [2, [3]]],
  { nested: { deeper: true } },
  "__proto__",
  "😀".repeat(10),
  "\u0000",
  Number.MAX_SAFE_INTEGER,
];

/** Never a storable message: wrong type, blank, or too long. */
const BAD_MESSAGES: unknown[] = [null, 0, false, [], {}, "", "  \n ", "x".repeat(4001), ["text"]];

type Context = { bookingId: string; otherBookingId: string; customerToken: string; otherToken: string };

/** Frames that must each be refused with exactly one chat-error. */
function badFrames(ctx: Context, count: number, next: () => number): (string | ArrayBuffer)[] {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const flipped = `${ctx.customerToken.slice(0, -1)}${ctx.customerToken.endsWith("A") ? "B" : "A"}`;
  const tokens = [
    ctx.otherToken,
    flipped,
    `${ctx.customerToken}x`,
    ctx.customerToken.replace("_customer_", "_provider_"),
    `${ctx.bookingId}_customer_${"A".repeat(43)}`,
    "not-a-token",
  ];
  const generators: (() => string | ArrayBuffer)[] = [
    () => pick(["", "{", "nul", "[]", "42", '"text"', "{'event':1}", "}{"]),
    () => `${"[".repeat(1000 + Math.floor(next() * 5000))}${"]".repeat(10)}`,
    () =>
      JSON.stringify({ event: "booking-chat", data: { bookingId: ctx.bookingId, blob: "y".repeat(70_000) } }),
    () => new Uint8Array(Math.floor(next() * 100) + 1).buffer,
    () =>
      JSON.stringify({
        event: pick(["hello", "constructor", "__proto__", "BOOKING-CHAT", "join"]),
        data: {},
      }),
    () =>
      JSON.stringify({
        event: pick(["booking-chat", "join-booking", "mark-read"]),
        data: pick(WEIRD_VALUES),
      }),
    () =>
      JSON.stringify({
        event: "booking-chat",
        data: {
          bookingId: pick([ctx.bookingId, pick(WEIRD_VALUES)]),
          chatToken: pick([ctx.customerToken, pick(WEIRD_VALUES)]),
          message: pick(BAD_MESSAGES),
        },
      }),
    () =>
      JSON.stringify({
        event: "booking-chat",
        data: { bookingId: ctx.bookingId, chatToken: pick(tokens), message: "forged" },
      }),
    () =>
      JSON.stringify({
        event: "booking-chat",
        data: { bookingId: ctx.otherBookingId, chatToken: ctx.otherToken, message: "elsewhere" },
      }),
    () =>
      JSON.stringify({
        event: "booking-chat",
        data: {
          bookingId: ctx.bookingId,
          chatToken: ctx.customerToken,
          message: pick(["", "   ", "z".repeat(4001)]),
        },
      }),
    () =>
      JSON.stringify({
        event: "booking-chat",
        data: {
          bookingId: ctx.bookingId,
          chatToken: ctx.customerToken,
          message: "meta",
          metadata: pick([{ big: "m".repeat(3000) }, [], "string", 5]),
        },
      }),
    () =>
      JSON.stringify({ event: "join-booking", data: { bookingId: ctx.bookingId, chatToken: pick(tokens) } }),
    () =>
      JSON.stringify({
        event: "mark-read",
        data: { bookingId: ctx.bookingId, seq: pick([-1, 0, 1.5, 10_000]) },
      }),
    () => JSON.stringify({ event: "booking-chat", data: { bookingId: ctx.bookingId, extra: 1 } }),
  ];
  return Array.from({ length: count }, () => pick(generators)());
}

function leaks(text: string, secrets: string[]): string[] {
  return secrets.filter((s) => text.includes(s));
}

describe("fuzzing", () => {
  it("answers 2,000 bad frames with chat-errors while a good client keeps chatting, and stores nothing bad", async () => {
    const chat = await activeChat();
    const other = await activeChat();
    // Every frame counts against its socket's budget (FRAME_BURST_PER_SOCKET), so the attacker
    // spreads the 2,000 over as many sockets as it may hold.
    const attackers = await Promise.all(
      Array.from({ length: Number(env.MAX_SOCKETS_PER_USER) }, () =>
        joined(chat.bookingId, chat.customer, chat.customerToken),
      ),
    );
    const good = await joined(chat.bookingId, chat.provider, chat.providerToken);
    const next = random(20261124);
    const frames = badFrames(
      {
        bookingId: chat.bookingId,
        otherBookingId: other.bookingId,
        customerToken: chat.customerToken,
        otherToken: other.customerToken,
      },
      2000,
      next,
    );

    let goodSent = 0;
    for (let i = 0; i < frames.length; i++) {
      const attacker = attackers[i % attackers.length] as (typeof attackers)[number];
      attacker.sendRaw(frames[i] as string | ArrayBuffer);
      const reply = await attacker.next();
      expect(reply.event, `frame ${i}`).toBe("chat-error");
      const replyText = JSON.stringify(reply);
      expect(
        leaks(replyText, [other.bookingId, other.customerToken, other.providerToken, chat.providerToken]),
      ).toEqual([]);
      if (i % 100 === 99) {
        good.send("booking-chat", {
          bookingId: chat.bookingId,
          chatToken: chat.providerToken,
          message: `good ${i}`,
        });
        goodSent++;
        const ack = await good.expect("booking-chat");
        expect(ack.content).toBe(`good ${i}`);
        for (const a of attackers) expect(await a.expect("booking-chat")).toEqual(ack);
      }
    }
    for (const a of attackers) expect(a.closed).toBeNull();
    expect(good.closed).toBeNull();

    const history = HistoryResponse.parse(
      (await api("GET", `/chat/booking/${chat.bookingId}?limit=100`, { jwt: chat.admin.jwt })).body,
    );
    expect(history.messages.map((m) => m.content)).toEqual(
      Array.from({ length: goodSent }, (_, k) => `good ${k * 100 + 99}`),
    );
    const otherHistory = HistoryResponse.parse(
      (await api("GET", `/chat/booking/${other.bookingId}`, { jwt: other.admin.jwt })).body,
    );
    expect(otherHistory.messages).toEqual([]);
    for (const a of attackers) a.close();
    good.close();
  });

  it("refuses bad JWTs at the upgrade and bad HTTP bodies and params with 4xx, leaking nothing", async () => {
    const chat = await activeChat();
    // Reads are limited per user per minute (READS_PER_USER): the fuzz reads as several users.
    const second = await activeChat();
    const readers = [chat, second];
    const admins = [chat.admin, second.admin, await newAdmin()];
    const next = random(7);
    const secret = new TextEncoder().encode(env.JWT_SECRET);
    const badJwts = [
      "",
      "Bearer",
      "a.b.c",
      new UnsecuredJWT({ role: "admin" }).setSubject(chat.customer.id).setExpirationTime("1h").encode(),
      await signUserJwt(chat.customer.id, "customer", { expiresIn: -10 }),
      await signUserJwt(chat.customer.id, "customer", { secret: "forged-secret-0123456789abcdef" }),
      await signUserJwt(chat.customer.id, "root"),
      await new SignJWT({ role: "customer" })
        .setProtectedHeader({ alg: "HS384" })
        .setSubject("x")
        .setExpirationTime("1h")
        .sign(secret),
      `${chat.customer.jwt.slice(0, -2)}xx`,
    ];
    for (const jwt of badJwts) {
      const { socket, response } = await openSocket(chat.bookingId, null, { jwt, via: "subprotocol" });
      expect(socket).toBeNull();
      expect(response.status).toBe(401);
      const res = await api("GET", `/bookings/${chat.bookingId}`, { jwt });
      expect(res.status).toBe(401);
    }

    const snapshot = async () => ({
      booking: (await api("GET", `/bookings/${chat.bookingId}`, { jwt: chat.admin.jwt })).body,
      history: (await api("GET", `/chat/booking/${chat.bookingId}`, { jwt: chat.admin.jwt })).body,
    });
    const before = await snapshot();
    const responses: ApiResponse[] = [];
    const payments: ApiResponse[] = [];
    const values = () => WEIRD_VALUES[Math.floor(next() * WEIRD_VALUES.length)];
    for (let i = 0; i < 150; i++) {
      responses.push(
        await api("POST", "/bookings", {
          jwt: chat.customer.jwt,
          body: { providerId: values(), notes: values() },
        }),
      );
      responses.push(
        await api("POST", "/bookings", { jwt: chat.customer.jwt, rawBody: String(values()).slice(0, 100) }),
      );
      const reader = readers[i % readers.length] as ActiveChat;
      const admin = admins[i % admins.length] as TestUser;
      responses.push(
        await api(
          "GET",
          `/chat/booking/${reader.bookingId}?limit=${encodeURIComponent(String(values()).slice(0, 50))}`,
          {
            jwt: reader.customer.jwt,
            headers: { "X-Chat-Token": reader.customerToken },
          },
        ),
      );
      payments.push(
        await api("POST", `/bookings/${chat.bookingId}/payment`, {
          rawBody: JSON.stringify({ bookingId: chat.bookingId }),
          headers: { "X-Signature": `sha256=${Math.floor(next() * 1e16).toString(16)}` },
        }),
      );
      responses.push(await api("GET", `/chat/booking/${encodeURIComponent(`bad_${i}`)}`, { jwt: admin.jwt }));
      responses.push(
        await api("GET", `/chat/admin/messages?since=${encodeURIComponent(String(values()).slice(0, 40))}`, {
          jwt: admin.jwt,
        }),
      );
    }
    const accepted = responses.filter((r) => r.status < 400);
    // Only a weird value that happens to be a valid limit may pass (e.g. limit=1).
    for (const r of accepted) {
      expect([chat.bookingId, second.bookingId].some((id) => r.text.includes(`"bookingId":"${id}"`))).toBe(
        true,
      );
    }
    for (const r of responses) expect(r.status, r.text).not.toBe(429);
    for (const r of [...responses, ...payments]) {
      if (r.status >= 400) {
        expect(r.status).toBeLessThan(500);
        expect(r.body).toEqual({ error: { code: expect.any(String), message: expect.any(String) } });
      }
      expect(leaks(r.text, [chat.customerToken, chat.providerToken])).toEqual([]);
    }
    for (const r of payments) expect(r.body).toMatchObject({ error: { code: "invalid_signature" } });
    // Nothing the fuzz sent changed the booking or its chat.
    expect(await snapshot()).toEqual(before);
  });
});
