import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { d1ShardOf } from "../src/db/shards";
import { AdminBookingsResponse, AdminMessagesResponse, type ListedMessage } from "../src/protocol";
import { bookingRoom } from "../src/rooms";
import { api, field } from "./helpers/api";
import { sendAndSettle } from "./helpers/d1";
import { type ActiveChat, activeChat } from "./helpers/flow";
import { newCustomer } from "./helpers/users";

const shards = [env.DB, env.DB_1];

async function heldIn(shard: D1Database, bookingId: string) {
  const messages = await shard
    .prepare("SELECT count(*) AS n FROM messages WHERE chat_type = 'booking' AND conversation_id = ?")
    .bind(bookingId)
    .first<{ n: number }>();
  const booking = await shard
    .prepare("SELECT count(*) AS n FROM bookings WHERE id = ?")
    .bind(bookingId)
    .first<{ n: number }>();
  return { messages: messages?.n ?? 0, booking: booking?.n ?? 0 };
}

/** Every page of an admin listing, following nextCursor to the end. */
async function allPages<T>(
  jwt: string,
  path: string,
  parse: (body: unknown) => { rows: T[]; next: string | null },
) {
  const rows: T[] = [];
  let pages = 0;
  for (let cursor: string | null = null; ; pages++) {
    const res = await api("GET", `${path}${cursor ? `&cursor=${cursor}` : ""}`, { jwt });
    expect(res.status, res.text).toBe(200);
    const page = parse(res.body);
    rows.push(...page.rows);
    cursor = page.next;
    if (!cursor) return { rows, pages: pages + 1 };
  }
}

const newestFirst = (a: ListedMessage, b: ListedMessage) =>
  a.createdAt !== b.createdAt ? (a.createdAt < b.createdAt ? 1 : -1) : b.seq - a.seq;

describe("D1 shards", () => {
  it("put each booking and its messages in one shard, and admin listings page across both", async () => {
    const start = new Date().toISOString();
    const customer = await newCustomer();
    // One customer's bookings until both shards hold two (ids are random, so the spread is too).
    const chats: ActiveChat[] = [];
    const inShard = (shard: number) => chats.filter((c) => d1ShardOf(c.bookingId, 2) === shard).length;
    while (inShard(0) < 2 || inShard(1) < 2) chats.push(await activeChat({ customer }));
    for (const [i, chat] of chats.entries()) await sendAndSettle(chat, [`${i}a`, `${i}b`, `${i}c`]);

    // Disjoint: each booking and its messages are in its own shard and nowhere else.
    for (const chat of chats) {
      const own = d1ShardOf(chat.bookingId, 2);
      expect(await heldIn(shards[own] as D1Database, chat.bookingId)).toEqual({ messages: 3, booking: 1 });
      expect(await heldIn(shards[1 - own] as D1Database, chat.bookingId)).toEqual({
        messages: 0,
        booking: 0,
      });
    }

    // The customer's messages, filtered by sender and time, three to a page across both shards.
    const jwt = chats[0]?.admin.jwt ?? "";
    const listed = await allPages(
      jwt,
      `/chat/admin/messages?senderId=${customer.id}&since=${encodeURIComponent(start)}&limit=3`,
      (body) => {
        const page = AdminMessagesResponse.parse(body);
        return { rows: page.messages, next: page.nextCursor };
      },
    );
    const expected = chats.flatMap((_, i) => [`${i}a`, `${i}b`, `${i}c`]);
    expect(listed.rows.map((m) => m.content).sort()).toEqual([...expected].sort());
    expect(new Set(listed.rows.map((m) => m.id)).size).toBe(expected.length);
    expect(listed.rows).toEqual([...listed.rows].sort(newestFirst));
    expect(listed.pages).toBe(Math.ceil(expected.length / 3));

    // The total counts every shard's matches; a filter narrows it on both.
    const first = await api("GET", `/chat/admin/messages?senderId=${customer.id}&limit=1`, { jwt });
    expect(AdminMessagesResponse.parse(first.body).total).toBe(expected.length);
    const oneBooking = chats.find((chat) => d1ShardOf(chat.bookingId, 2) === 1) as ActiveChat;
    const narrowed = await api("GET", `/chat/admin/messages?bookingId=${oneBooking.bookingId}`, { jwt });
    expect(AdminMessagesResponse.parse(narrowed.body).messages.map((m) => m.seq)).toEqual([3, 2, 1]);

    // Bookings: the customer's, two to a page, newest first, each once.
    const bookings = await allPages(jwt, `/chat/admin/bookings?customerId=${customer.id}&limit=2`, (body) => {
      const page = AdminBookingsResponse.parse(body);
      return { rows: page.bookings, next: page.nextCursor };
    });
    expect(bookings.rows.map((b) => b.id).sort()).toEqual(chats.map((c) => c.bookingId).sort());
    const created = bookings.rows.map((b) => b.createdAt);
    expect(created).toEqual([...created].sort().reverse());
    const cancelled = await allPages(
      jwt,
      `/chat/admin/bookings?customerId=${customer.id}&status=cancelled&limit=2`,
      (body) => {
        const page = AdminBookingsResponse.parse(body);
        return { rows: page.bookings, next: page.nextCursor };
      },
    );
    expect(cancelled.rows).toEqual([]);
  });

  it("does not show on a later page a booking created after the first, in a shard the first page took nothing from", async () => {
    const admin = (await activeChat()).admin;
    const provider = `provider-${crypto.randomUUID()}`;
    const put = (shard: D1Database, id: string, createdAt: string) =>
      shard
        .prepare(
          "INSERT INTO bookings (id, customer_id, provider_id, status, payment_status, created_at, updated_at, version) VALUES (?, 'c', ?, 'pending_payment', 'pending', ?, ?, 1)",
        )
        .bind(id, provider, createdAt, createdAt)
        .run();
    await put(env.DB, "a1", "2026-06-03T00:00:00.000Z");
    await put(env.DB, "a2", "2026-06-02T00:00:00.000Z");
    await put(env.DB_1, "b1", "2026-06-01T00:00:00.000Z");
    const first = await api("GET", `/chat/admin/bookings?providerId=${provider}&limit=2`, { jwt: admin.jwt });
    const page1 = AdminBookingsResponse.parse(first.body);
    expect(page1.bookings.map((b) => b.id)).toEqual(["a1", "a2"]);
    // Newer than everything listed: it belongs before the first page, not on the second.
    await put(env.DB_1, "b0", "2026-06-04T00:00:00.000Z");
    const second = await api(
      "GET",
      `/chat/admin/bookings?providerId=${provider}&limit=2&cursor=${page1.nextCursor}`,
      {
        jwt: admin.jwt,
      },
    );
    const page2 = AdminBookingsResponse.parse(second.body);
    expect(page2.bookings.map((b) => b.id)).toEqual(["b1"]);
    expect(page2.nextCursor).toBeNull();
  });

  it("refuses a cursor that does not name every shard (one from before a shard was added)", async () => {
    const chat = await activeChat();
    const oneShard = Buffer.from(JSON.stringify([[null], [null]])).toString("base64url");
    const res = await api("GET", `/chat/admin/messages?cursor=${oneShard}`, { jwt: chat.admin.jwt });
    expect(res.status, res.text).toBe(400);
    expect(field(res.body, "error", "code")).toBe("invalid_request");
    expect(field(res.body, "error", "message")).toContain("shards changed");
  });

  it("keeps a room from before shards existed writing to the first database", async () => {
    const chat = await activeChat();
    const room = bookingRoom(env, chat.bookingId);
    // As rooms created before this release are: no shard recorded.
    await runInDurableObject(room, (_, state) => state.storage.kv.delete("d1Shard"));
    await evictDurableObject(room);
    await sendAndSettle(chat, ["after the upgrade"]);
    expect((await heldIn(env.DB, chat.bookingId)).messages).toBe(1);
  });
});
