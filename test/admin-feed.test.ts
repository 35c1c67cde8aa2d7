import { evictDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import type { Message } from "../src/protocol";
import { activeChat, createBooking, parties } from "./helpers/flow";
import { adminFeed, joined } from "./helpers/socket";

describe("the admin feed (/admin/ws)", () => {
  it("carries every message of concurrent bookings, in order per booking, and never a token", async () => {
    const admin = (await parties()).admin;
    const feed = await adminFeed(admin);
    const chats = await Promise.all([activeChat(), activeChat(), activeChat()]);
    const sockets = await Promise.all(
      chats.flatMap((chat) => [
        joined(chat.bookingId, chat.customer, chat.customerToken),
        joined(chat.bookingId, chat.provider, chat.providerToken),
      ]),
    );
    const perBooking = 12;
    for (let i = 0; i < perBooking; i++) {
      chats.forEach((chat, index) => {
        const sender = i % 2 === 0 ? sockets[index * 2] : sockets[index * 2 + 1];
        const chatToken = i % 2 === 0 ? chat.customerToken : chat.providerToken;
        sender?.send("booking-chat", { bookingId: chat.bookingId, chatToken, message: `${index}-${i}` });
      });
    }
    const messagesOf = (bookingId: string) =>
      feed.received.flatMap((f) =>
        f.event === "booking-chat" && f.data.bookingId === bookingId ? [f.data] : [],
      );
    await vi.waitUntil(() => chats.every((chat) => messagesOf(chat.bookingId).length === perBooking), {
      timeout: 10_000,
    });
    for (const chat of chats) {
      const seen: Message[] = messagesOf(chat.bookingId);
      expect(seen.map((m) => m.seq)).toEqual(Array.from({ length: perBooking }, (_, i) => i + 1));
    }
    const text = JSON.stringify(feed.received);
    for (const chat of chats) {
      expect(text).not.toContain(chat.customerToken);
      expect(text).not.toContain(chat.providerToken);
    }
    // Every transition of these bookings was announced too, token-free.
    const updates = feed.received.flatMap((f) => (f.event === "booking-updated" ? [f.data] : []));
    for (const chat of chats) {
      const actions = updates.filter((u) => u.booking.id === chat.bookingId).map((u) => u.action);
      expect(actions).toEqual(["created", "paid", "accepted"]);
    }
    for (const s of [feed, ...sockets]) s.close();
  });

  it("is read-only and survives eviction", async () => {
    const p = await parties();
    const feed = await adminFeed(p.admin);
    feed.send("booking-chat", { message: "hi" });
    expect(await feed.expect("chat-error")).toMatchObject({ code: "invalid_payload" });
    await evictDurableObject(env.ADMIN_FEED.get(env.ADMIN_FEED.idFromName("global")));
    const booking = await createBooking(p);
    await vi.waitUntil(() =>
      feed.received.some((f) => f.event === "booking-updated" && f.data.booking.id === booking.id),
    );
    feed.close();
  });
});
