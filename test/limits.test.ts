import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { HistoryResponse, PING_FRAME } from "../src/protocol";
import { api, BASE_URL, field } from "./helpers/api";
import { activeChat, createBooking, parties } from "./helpers/flow";
import { connect, joined, openSocket } from "./helpers/socket";

describe("abuse limits", () => {
  it("rate-limits a flooding socket with a retry hint, storing only what it accepted, gap-free", async () => {
    const chat = await activeChat();
    const flooder = await joined(chat.bookingId, chat.customer, chat.customerToken);
    const calm = await joined(chat.bookingId, chat.provider, chat.providerToken);
    const total = 300;
    for (let i = 0; i < total; i++) {
      flooder.send("booking-chat", {
        bookingId: chat.bookingId,
        chatToken: chat.customerToken,
        message: `f${i}`,
      });
    }
    const frames = [];
    for (let i = 0; i < total; i++) frames.push(await flooder.next());
    const limited = frames.flatMap((f) => (f.event === "chat-error" ? [f.data] : []));
    const accepted = frames.flatMap((f) => (f.event === "booking-chat" ? [f.data] : []));
    expect(limited.length).toBeGreaterThan(0);
    expect(limited.every((e) => e.code === "rate_limited" && (e.retryAfterMs ?? 0) > 0)).toBe(true);
    expect(accepted.map((m) => m.seq)).toEqual(Array.from({ length: accepted.length }, (_, i) => i + 1));

    // The other party is not limited by the flooder.
    calm.send("booking-chat", { bookingId: chat.bookingId, chatToken: chat.providerToken, message: "hello" });
    const mine = await (async () => {
      for (;;) {
        const f = await calm.next();
        if (f.event === "booking-chat" && f.data.senderId === chat.provider.id) return f.data;
      }
    })();
    expect(mine.seq).toBe(accepted.length + 1);
    const history = await api(
      "GET",
      `/chat/booking/${chat.bookingId}?limit=100&after=${accepted.length - 1}`,
      {
        jwt: chat.admin.jwt,
      },
    );
    expect(HistoryResponse.parse(history.body).messages.map((m) => m.seq)).toEqual([
      accepted.length,
      accepted.length + 1,
    ]);
    flooder.close();
    calm.close();
  });

  it("caps the sockets one user holds on a booking", async () => {
    const p = await parties();
    const booking = await createBooking(p);
    const open = [];
    for (let i = 0; i < 4; i++) open.push(await connect(booking.id, p.customer));
    const fifth = await openSocket(booking.id, p.customer);
    expect(fifth.socket).toBeNull();
    expect(fifth.response.status).toBe(429);
    expect(field(await fifth.response.json(), "error", "code")).toBe("too_many_connections");
    // Someone else is not affected, and closing one frees a place.
    (await connect(booking.id, p.provider)).close();
    open.pop()?.close();
    await expect.poll(async () => (await openSocket(booking.id, p.customer)).response.status).toBe(101);
    for (const s of open) s.close();
  });

  it("accepts browser upgrades only from allowed origins", async () => {
    const p = await parties();
    const booking = await createBooking(p);
    const upgrade = (origin?: string) =>
      exports.default.fetch(`${BASE_URL}/bookings/${booking.id}/ws`, {
        headers: {
          Upgrade: "websocket",
          Authorization: `Bearer ${p.customer.jwt}`,
          ...(origin ? { Origin: origin } : {}),
        },
      });
    const evil = await upgrade("https://evil.example");
    expect(evil.status).toBe(403);
    expect(field(await evil.json(), "error", "code")).toBe("origin_not_allowed");
    expect((await upgrade("https://app.spana.test.evil.example")).status).toBe(403);
    for (const ok of [await upgrade("https://app.spana.test"), await upgrade()]) {
      expect(ok.status).toBe(101);
      ok.webSocket?.accept();
      ok.webSocket?.close();
    }
    // The inbox checks the origin as the booking socket does.
    const inboxAt = (origin: string) =>
      exports.default.fetch(`${BASE_URL}/me/ws`, {
        headers: { Upgrade: "websocket", Authorization: `Bearer ${p.customer.jwt}`, Origin: origin },
      });
    const evilInbox = await inboxAt("https://evil.example");
    expect(evilInbox.status).toBe(403);
    expect(field(await evilInbox.json(), "error", "code")).toBe("origin_not_allowed");
    const inbox = await inboxAt("https://app.spana.test");
    expect(inbox.status).toBe(101);
    inbox.webSocket?.accept();
    inbox.webSocket?.close();
  });

  it("answers the heartbeat", async () => {
    const chat = await activeChat();
    for (const socket of [await connect(chat.bookingId, chat.customer)]) {
      socket.sendRaw(PING_FRAME);
      expect(await socket.expect("pong")).toEqual({});
      socket.close();
    }
  });
});
