import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { feedStub } from "../src/delivery/targets";
import type { Message } from "../src/protocol";
import { bookingRoom } from "../src/rooms";
import { settleD1 } from "./helpers/d1";
import { activeChat, createBooking, parties } from "./helpers/flow";
import { adminFeed, inbox, joined } from "./helpers/socket";

const feedShards = Number(env.ADMIN_FEED_SHARDS);

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
    for (let shard = 0; shard < feedShards; shard++)
      await evictDurableObject(feedStub(env, shard, feedShards));
    const booking = await createBooking(p);
    await vi.waitUntil(() =>
      feed.received.some((f) => f.event === "booking-updated" && f.data.booking.id === booking.id),
    );
    feed.close();
  });

  it("shows nothing twice when a room restarts between delivering and tidying up", async () => {
    const chat = await activeChat();
    const room = bookingRoom(env, chat.bookingId);
    await settleD1(room);
    const feed = await adminFeed(chat.admin);
    const providerInbox = await inbox(chat.provider);
    const customer = await joined(chat.bookingId, chat.customer, chat.customerToken);
    const say = async (message: string) => {
      customer.send("booking-chat", { bookingId: chat.bookingId, chatToken: chat.customerToken, message });
      await customer.expect("booking-chat");
    };
    const fed = () =>
      feed.all("booking-chat").flatMap((m) => (m.bookingId === chat.bookingId ? [m.content] : []));
    const notified = () =>
      providerInbox
        .all("booking-chat-notification")
        .flatMap((n) => (n.bookingId === chat.bookingId ? [n.seq] : []));

    for (const message of ["one", "two", "three"]) await say(message);
    await vi.waitUntil(() => fed().length === 3 && notified().length === 3, { timeout: 5_000 });
    // Delivered, but the room records how far delivery got only when its alarm runs; restarted
    // before that, it sends those events again.
    await runInDurableObject(room, (_, state) =>
      state.storage.sql.exec(
        `UPDATE consumer_positions SET positions = (SELECT json_group_object(key,
           CASE WHEN key = 'd1' THEN json(value) ELSE json_set(value, '$.seq', 0, '$.event', 0) END)
         FROM json_each(positions))`,
      ),
    );
    await evictDurableObject(room);

    await say("four");
    await vi.waitUntil(() => fed().length >= 4 && notified().length >= 4, { timeout: 5_000 });
    await feed.barrier();
    await providerInbox.barrier();
    expect(fed()).toEqual(["one", "two", "three", "four"]);
    expect(notified()).toEqual([1, 2, 3, 4]);
    for (const socket of [feed, providerInbox, customer]) socket.close();
  });
});
