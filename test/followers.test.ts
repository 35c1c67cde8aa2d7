import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import type { AdminFeed } from "../src/admin-feed/feed";
import type { DeliveryReceiver } from "../src/delivery/items";
import { feedShardOf, feedStub, inboxStub } from "../src/delivery/targets";
import { type Counters, meter, meterSnapshot } from "../src/metering/meter";
import { bookingRoom } from "../src/rooms";
import type { UserInbox } from "../src/user-inbox/inbox";
import { d1Seqs, settleD1 } from "./helpers/d1";
import { type ActiveChat, activeChat } from "./helpers/flow";
import { adminFeed, inbox, joined, type TestSocket } from "./helpers/socket";

const feedShards = Number(env.ADMIN_FEED_SHARDS);

function spent(before: Record<string, Counters>, kind: string, counter: keyof Counters): number {
  return meter(kind)[counter] - (before[kind]?.[counter] ?? 0);
}

const say = (socket: TestSocket, chat: ActiveChat, message: string) =>
  socket.send("booking-chat", { bookingId: chat.bookingId, chatToken: chat.customerToken, message });

const notifiedSeqs = (socket: TestSocket, bookingId: string) =>
  socket.all("booking-chat-notification").flatMap((n) => (n.bookingId === bookingId ? [n.seq] : []));
const fedContents = (socket: TestSocket, bookingId: string) =>
  socket.all("booking-chat").flatMap((m) => (m.bookingId === bookingId ? [m.content] : []));

/**
 * Makes one live receiver object throw on every delivery until the returned function is called:
 * fault injection into the real object (its class's RPC method, for that instance only), as the
 * D1 tests do with a trigger.
 */
async function breakReceiver(stub: DurableObjectStub<UserInbox | AdminFeed>, attempts: number[]) {
  let target: unknown = null;
  await runInDurableObject(stub, (instance) => {
    target = instance;
  });
  const prototype = Object.getPrototypeOf(target) as DeliveryReceiver;
  const deliver = prototype.deliver;
  prototype.deliver = async function (this: unknown, ...args: Parameters<DeliveryReceiver["deliver"]>) {
    if (this !== target) return deliver.apply(this, args);
    // Empty deliveries are the sender's check that the receiver answers at all; they fail too.
    if (args[1].length > 0) attempts.push(Date.now());
    throw new Error("injected receiver outage");
  };
  return () => {
    prototype.deliver = deliver;
  };
}

describe("what follows a conversation's log", () => {
  it("a message at a person's pace, to an open app with an admin watching, costs one row in its room, one alarm, two calls and three D1 rows", async () => {
    const chat = await activeChat();
    const room = bookingRoom(env, chat.bookingId);
    const customer = await joined(chat.bookingId, chat.customer, chat.customerToken);
    const provider = await joined(chat.bookingId, chat.provider, chat.providerToken);
    const providerInbox = await inbox(chat.provider);
    const feed = await adminFeed(chat.admin);
    await settleD1(room);
    const before = meterSnapshot();

    say(customer, chat, "Are you coming today?");
    await customer.expect("booking-chat");
    await provider.expect("booking-chat");
    await vi.waitUntil(() => notifiedSeqs(providerInbox, chat.bookingId).length === 1);
    await vi.waitUntil(() => fedContents(feed, chat.bookingId).length === 1);
    // Stored, broadcast and delivered: the message's row is the only write so far.
    expect(spent(before, "BookingRoom", "rowsWritten")).toBe(1);
    expect(spent(before, "BookingRoom", "calls")).toBe(2);
    expect(spent(before, "UserInbox", "rowsWritten")).toBe(0);
    expect(spent(before, "AdminFeed", "rowsWritten")).toBe(0);

    await settleD1(room);
    expect(spent(before, "BookingRoom", "alarmsSet")).toBe(1);
    // The alarm copied the message to D1; how far the live views and D1 got is nothing to record.
    expect(spent(before, "BookingRoom", "rowsWritten")).toBe(1);
    expect(spent(before, "BookingRoom", "d1RowsWritten")).toBe(3);
    expect(await runInDurableObject(room, (_, state) => state.storage.getAlarm())).toBeNull();
    for (const socket of [customer, provider, providerInbox, feed]) socket.close();
  });

  it("schedules nothing once a room has caught up, and nothing when it wakes idle", async () => {
    const chat = await activeChat();
    const room = bookingRoom(env, chat.bookingId);
    const customer = await joined(chat.bookingId, chat.customer, chat.customerToken);
    for (const message of ["one", "two", "three"]) say(customer, chat, message);
    for (let i = 0; i < 3; i++) await customer.expect("booking-chat");
    expect(await runInDurableObject(room, (_, state) => state.storage.getAlarm())).not.toBeNull();
    await settleD1(room);
    expect(await runInDurableObject(room, (_, state) => state.storage.getAlarm())).toBeNull();
    // Reading the history wakes the room without scheduling anything.
    customer.send("join-booking", { bookingId: chat.bookingId, chatToken: chat.customerToken, sinceSeq: 0 });
    await customer.expect("booking-joined");
    for (let i = 0; i < 3; i++) await customer.expect("booking-chat");
    expect(await runDurableObjectAlarm(room)).toBe(false);
    customer.close();
  });

  const receivers = {
    "the recipient's inbox": (chat: ActiveChat) =>
      inboxStub(env, { userId: chat.provider.id, role: "provider" }),
    "the booking's admin feed shard": (chat: ActiveChat) =>
      feedStub(env, feedShardOf(chat.bookingId, feedShards), feedShards),
  };

  for (const [name, stubOf] of Object.entries(receivers)) {
    it(`carries on while ${name} fails, then catches it up in order, once, after backing off`, async () => {
      const chat = await activeChat();
      const room = bookingRoom(env, chat.bookingId);
      const customer = await joined(chat.bookingId, chat.customer, chat.customerToken);
      const provider = await joined(chat.bookingId, chat.provider, chat.providerToken);
      const providerInbox = await inbox(chat.provider);
      const feed = await adminFeed(chat.admin);
      const attempts: number[] = [];
      const repair = await breakReceiver(stubOf(chat), attempts);

      // A message every 250 ms for 3 s: the broken receiver is tried at once, then after about
      // 0.5-1 s, then 1-2 s later: three tries at most, however many messages arrive.
      const sent = Array.from({ length: 12 }, (_, i) => `m${i + 1}`);
      for (const message of sent) {
        say(customer, chat, message);
        // The booking's own sockets never wait for anyone.
        expect(await provider.expect("booking-chat")).toMatchObject({ content: message });
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      await settleD1(room);
      expect(await d1Seqs(chat.bookingId)).toEqual(sent.map((_, i) => i + 1));
      const healthy = name.includes("inbox") ? feed : providerInbox;
      const heard = () =>
        name.includes("inbox")
          ? fedContents(feed, chat.bookingId).length
          : notifiedSeqs(providerInbox, chat.bookingId).length;
      await vi.waitUntil(() => heard() === sent.length, { timeout: 5_000 });
      await healthy.barrier();
      expect(attempts.length).toBeGreaterThanOrEqual(1);
      expect(attempts.length).toBeLessThanOrEqual(3);

      repair();
      const caughtUp = () =>
        name.includes("inbox")
          ? notifiedSeqs(providerInbox, chat.bookingId)
          : fedContents(feed, chat.bookingId);
      await vi.waitUntil(() => caughtUp().length >= sent.length, { timeout: 10_000, interval: 50 });
      await providerInbox.barrier();
      await feed.barrier();
      expect(notifiedSeqs(providerInbox, chat.bookingId)).toEqual(sent.map((_, i) => i + 1));
      expect(fedContents(feed, chat.bookingId)).toEqual(sent);
      for (const socket of [customer, provider, providerInbox, feed]) socket.close();
    });
  }
});
