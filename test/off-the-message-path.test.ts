import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { type Counters, meter, meterSnapshot } from "../src/metering/meter";
import { MyChatsResponse } from "../src/protocol";
import { bookingRoom } from "../src/rooms";
import { api } from "./helpers/api";
import { d1Seqs, settleD1 } from "./helpers/d1";
import { type ActiveChat, activeChat } from "./helpers/flow";
import { adminFeed, inbox, joined, type TestSocket } from "./helpers/socket";
import type { TestUser } from "./helpers/users";

function spent(before: Record<string, Counters>, kind: string, counter: keyof Counters): number {
  return meter(kind)[counter] - (before[kind]?.[counter] ?? 0);
}

async function myChat(user: TestUser, bookingId: string) {
  const res = await api("GET", "/chat/my-chats", { jwt: user.jwt });
  expect(res.status, res.text).toBe(200);
  return MyChatsResponse.parse(res.body).chats.find((c) => c.bookingId === bookingId);
}

/** Sends `count` messages from the customer, each acknowledged before the next. */
async function talk(customer: TestSocket, chat: ActiveChat, count: number, prefix = "m"): Promise<void> {
  for (let i = 1; i <= count; i++) {
    customer.send("booking-chat", {
      bookingId: chat.bookingId,
      chatToken: chat.customerToken,
      message: `${prefix}${i}`,
    });
    await customer.expect("booking-chat");
  }
}

/** Waits until the room knows that both inboxes and the feed shard take no messages. */
async function heardFromReceivers(chat: ActiveChat): Promise<void> {
  await vi.waitUntil(async () => {
    const gates = await runInDurableObject(bookingRoom(env, chat.bookingId), (_, state) =>
      JSON.stringify(state.storage.kv.get("receiverGates") ?? {}),
    );
    return (gates.match(/"messagesFrom":null/g) ?? []).length === 2 && gates.includes('"watchedFrom":null');
  });
}

const alarmOf = (chat: ActiveChat) =>
  runInDurableObject(bookingRoom(env, chat.bookingId), (_, state) => state.storage.getAlarm());

describe("consumers off the per-message path", () => {
  it("calls no inbox per message while the recipient's app is closed, and my-chats stays exact", async () => {
    const chat = await activeChat();
    const customer = await joined(chat.bookingId, chat.customer, chat.customerToken);
    // The booking's lifecycle taught the room that neither inbox has a socket, nor the feed an admin.
    await talk(customer, chat, 1, "first ");
    await heardFromReceivers(chat);
    const before = meterSnapshot();

    await talk(customer, chat, 30);
    await customer.barrier();
    expect(spent(before, "BookingRoom", "calls")).toBe(0);
    expect(spent(before, "UserInbox", "rowsWritten")).toBe(0);
    // Thirty messages, one alarm: the D1 copy's, set by the first and serving them all.
    expect(spent(before, "BookingRoom", "alarmsSet")).toBeLessThanOrEqual(1);
    expect(spent(before, "BookingRoom", "rowsWritten")).toBe(30);

    const summary = await myChat(chat.provider, chat.bookingId);
    expect(summary).toMatchObject({ unreadCount: 31, lastMessage: { seq: 31, content: "m30" } });
    expect(await myChat(chat.customer, chat.bookingId)).toMatchObject({ unreadCount: 0 });

    // The provider opens the app: the next message reaches its inbox at once, and only that one.
    const providerInbox = await inbox(chat.provider);
    await talk(customer, chat, 1, "now ");
    const notice = await providerInbox.expect("booking-chat-notification");
    expect(notice).toMatchObject({ bookingId: chat.bookingId, seq: 32, preview: "now 1" });
    await providerInbox.barrier();
    expect(providerInbox.all("booking-chat-notification")).toHaveLength(1);
    providerInbox.close();
    customer.close();
  });

  it("schedules the D1 copy once per interval, not per message, and D1 gets each message once", async () => {
    const chat = await activeChat();
    const room = bookingRoom(env, chat.bookingId);
    await settleD1(room);
    const customer = await joined(chat.bookingId, chat.customer, chat.customerToken);
    const sentAt = Date.now();
    await talk(customer, chat, 5);
    const due = await alarmOf(chat);
    // D1_COPY_INTERVAL_MS (60 s here), spread by a quarter either way.
    expect(due).not.toBeNull();
    expect(due ?? 0).toBeGreaterThanOrEqual(sentAt + 45_000 - 1_000);
    expect(due ?? 0).toBeLessThanOrEqual(Date.now() + 75_000 + 1_000);
    expect(await d1Seqs(chat.bookingId)).toEqual([]);

    // Evicted before the copy: the room stores no D1 position, and asks D1 how far it got.
    await evictDurableObject(room);
    await settleD1(room);
    expect(await d1Seqs(chat.bookingId)).toEqual([1, 2, 3, 4, 5]);
    await talk(customer, chat, 2, "after ");
    await evictDurableObject(room);
    await settleD1(room);
    expect(await d1Seqs(chat.bookingId)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(await runDurableObjectAlarm(room)).toBe(false);
    customer.close();
  });

  it("calls no feed shard and sets no alarm of its own while no admin watches, and resumes when one does", async () => {
    const chat = await activeChat();
    const customer = await joined(chat.bookingId, chat.customer, chat.customerToken);
    await talk(customer, chat, 1, "first ");
    await heardFromReceivers(chat);
    await settleD1(bookingRoom(env, chat.bookingId));
    const before = meterSnapshot();

    await talk(customer, chat, 10);
    await customer.barrier();
    expect(spent(before, "BookingRoom", "calls")).toBe(0);
    expect(spent(before, "AdminFeed", "calls") + spent(before, "AdminFeed", "rowsWritten")).toBe(0);
    expect(spent(before, "BookingRoom", "alarmsSet")).toBe(1);

    // An admin opens the feed: the shard calls back the conversations it told nobody watched.
    const feed = await adminFeed(chat.admin);
    await talk(customer, chat, 2, "watched ");
    const fed = () =>
      feed.all("booking-chat").flatMap((m) => (m.bookingId === chat.bookingId ? [m.content] : []));
    await vi.waitUntil(() => fed().length === 2);
    await feed.barrier();
    expect(fed()).toEqual(["watched 1", "watched 2"]);

    // Gone again: one delivery finds out, then nothing.
    feed.close();
    await talk(customer, chat, 1, "unwatched ");
    await customer.barrier();
    const quiet = meterSnapshot();
    await talk(customer, chat, 5, "later ");
    await customer.barrier();
    expect(spent(quiet, "BookingRoom", "calls")).toBe(0);
    customer.close();
  });

  it("wakes a room with one version read: no migration check, nothing loaded for resends", async () => {
    const chat = await activeChat();
    const room = bookingRoom(env, chat.bookingId);
    const customer = await joined(chat.bookingId, chat.customer, chat.customerToken);
    customer.send("booking-chat", {
      bookingId: chat.bookingId,
      chatToken: chat.customerToken,
      message: "original",
      clientMessageId: "c-1",
    });
    const original = await customer.expect("booking-chat");
    await talk(customer, chat, 3);
    customer.close();
    await evictDurableObject(room);
    const before = meterSnapshot();

    const history = await api("GET", `/chat/booking/${chat.bookingId}`, { jwt: chat.admin.jwt });
    expect(history.status).toBe(200);
    expect(spent(before, "BookingRoom", "wakes")).toBe(1);
    expect(spent(before, "BookingRoom", "schemaChecks")).toBe(0);

    // A resend after the wake is still recognised, by a lookup, without reloading the window.
    const again = await joined(chat.bookingId, chat.customer, chat.customerToken);
    again.send("booking-chat", {
      bookingId: chat.bookingId,
      chatToken: chat.customerToken,
      message: "original, resent",
      clientMessageId: "c-1",
    });
    expect(await again.expect("booking-chat")).toEqual(original);
    expect(spent(before, "BookingRoom", "schemaChecks")).toBe(0);
    again.close();
  });
});
