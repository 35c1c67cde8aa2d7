import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { meter } from "../src/metering/meter";
import { bookingRoom } from "../src/rooms";
import { api } from "./helpers/api";
import { d1Of, d1Seqs, refuseInsertsInD1, settleD1 } from "./helpers/d1";
import { activeChat } from "./helpers/flow";
import { joined } from "./helpers/socket";

describe("the D1 outbox", () => {
  it("accepts and delivers messages while D1 fails, then writes each exactly once after it recovers", async () => {
    const chat = await activeChat();
    const room = bookingRoom(env, chat.bookingId);
    const repairD1 = await refuseInsertsInD1(
      "messages",
      `NEW.conversation_id = '${chat.bookingId}'`,
      "injected D1 outage",
    );
    const customer = await joined(chat.bookingId, chat.customer, chat.customerToken);
    const provider = await joined(chat.bookingId, chat.provider, chat.providerToken);

    for (let i = 1; i <= 5; i++) {
      customer.send("booking-chat", {
        bookingId: chat.bookingId,
        chatToken: chat.customerToken,
        message: `m${i}`,
      });
      expect(await customer.expect("booking-chat")).toMatchObject({ seq: i });
      expect(await provider.expect("booking-chat")).toMatchObject({ seq: i });
    }
    await runDurableObjectAlarm(room);
    expect(await d1Seqs(chat.bookingId)).toEqual([]);
    // The failed flush left a retry scheduled.
    expect(await runInDurableObject(room, (_, state) => state.storage.getAlarm())).not.toBeNull();

    provider.send("booking-chat", {
      bookingId: chat.bookingId,
      chatToken: chat.providerToken,
      message: "m6",
    });
    expect(await customer.expect("booking-chat")).toMatchObject({ seq: 6 });
    await runDurableObjectAlarm(room);
    expect(await d1Seqs(chat.bookingId)).toEqual([]);

    // History is served from the room, so readers never notice the outage.
    const history = await api("GET", `/chat/booking/${chat.bookingId}`, { jwt: chat.admin.jwt });
    expect((history.body as { messages: unknown[] }).messages).toHaveLength(6);

    await repairD1();
    await settleD1(room);
    expect(await d1Seqs(chat.bookingId)).toEqual([1, 2, 3, 4, 5, 6]);
    await runDurableObjectAlarm(room);
    expect(await d1Seqs(chat.bookingId)).toEqual([1, 2, 3, 4, 5, 6]);
    customer.close();
    provider.close();
  });

  it("never duplicates a message in D1 when a flush is repeated after D1 already took it", async () => {
    const chat = await activeChat();
    const room = bookingRoom(env, chat.bookingId);
    const customer = await joined(chat.bookingId, chat.customer, chat.customerToken);
    for (let i = 1; i <= 3; i++) {
      customer.send("booking-chat", {
        bookingId: chat.bookingId,
        chatToken: chat.customerToken,
        message: `m${i}`,
      });
      await customer.expect("booking-chat");
    }
    await settleD1(room);
    expect(await d1Seqs(chat.bookingId)).toEqual([1, 2, 3]);

    // As if the room had crashed after D1 committed but before it noted that: everything is re-sent.
    await runInDurableObject(room, async (_, state) => {
      state.storage.sql.exec("UPDATE consumer_positions SET positions = json_set(positions, '$.d1.seq', 0)");
      await state.storage.setAlarm(Date.now() + 60_000);
    });
    await evictDurableObject(room);
    expect(await runDurableObjectAlarm(room)).toBe(true);
    expect(await d1Seqs(chat.bookingId)).toEqual([1, 2, 3]);
    const row = await d1Of(chat.bookingId)
      .prepare("SELECT content, sender_role, chat_type FROM messages WHERE conversation_id = ? AND seq = 2")
      .bind(chat.bookingId)
      .first();
    expect(row).toEqual({ content: "m2", sender_role: "customer", chat_type: "booking" });
    customer.close();
  });

  it("copies each message to D1 exactly once over rounds of sends and flushes", async () => {
    const chat = await activeChat();
    const room = bookingRoom(env, chat.bookingId);
    const customer = await joined(chat.bookingId, chat.customer, chat.customerToken);
    await settleD1(room);
    const copiedBefore = meter("BookingRoom").d1MessagesCopied;
    let sent = 0;
    for (const round of [3, 2]) {
      for (let i = 0; i < round; i++) {
        customer.send("booking-chat", {
          bookingId: chat.bookingId,
          chatToken: chat.customerToken,
          message: `m${++sent}`,
        });
        await customer.expect("booking-chat");
      }
      await settleD1(room);
      expect(await d1Seqs(chat.bookingId)).toEqual(Array.from({ length: sent }, (_, i) => i + 1));
    }
    expect(meter("BookingRoom").d1MessagesCopied - copiedBefore).toBe(5);
    customer.close();
  });

  it("batches D1 writes: under load, far fewer statements than messages", async () => {
    const chat = await activeChat();
    const room = bookingRoom(env, chat.bookingId);
    const customer = await joined(chat.bookingId, chat.customer, chat.customerToken);
    const provider = await joined(chat.bookingId, chat.provider, chat.providerToken);
    await settleD1(room);
    const before = { ...meter("BookingRoom") };
    for (let i = 0; i < 50; i++) {
      customer.send("booking-chat", {
        bookingId: chat.bookingId,
        chatToken: chat.customerToken,
        message: `c${i}`,
      });
      provider.send("booking-chat", {
        bookingId: chat.bookingId,
        chatToken: chat.providerToken,
        message: `p${i}`,
      });
    }
    for (let i = 0; i < 100; i++) await customer.expect("booking-chat");
    await settleD1(room);
    expect(await d1Seqs(chat.bookingId)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    const statements = meter("BookingRoom").d1Statements - before.d1Statements;
    expect(meter("BookingRoom").messages - before.messages).toBe(100);
    // One JSON-carrying insert takes the whole burst, where 9-row inserts would take 12.
    expect(statements / 100).toBeLessThan(0.1);
    customer.close();
    provider.close();
  });

  it("copies every field to D1 as sent: quotes, emoji, metadata and the client's id", async () => {
    const chat = await activeChat();
    const room = bookingRoom(env, chat.bookingId);
    const customer = await joined(chat.bookingId, chat.customer, chat.customerToken);
    const content = `It's "fixed" ✅ — see 'notes'; \\ 日本語 ${"🙂".repeat(3)}`;
    const metadata = { photo: { url: "https://example.test/p.jpg", width: 640 }, tags: ["sink", null] };
    customer.send("booking-chat", {
      bookingId: chat.bookingId,
      chatToken: chat.customerToken,
      message: content,
      clientMessageId: "client-42",
      metadata,
    });
    const sent = await customer.expect("booking-chat");
    await settleD1(room);
    const row = await d1Of(chat.bookingId)
      .prepare("SELECT * FROM messages WHERE conversation_id = ?")
      .bind(chat.bookingId)
      .first();
    expect(row).toEqual({
      chat_type: "booking",
      conversation_id: chat.bookingId,
      id: sent.id,
      seq: 1,
      sender_id: sent.senderId,
      sender_role: "customer",
      content,
      client_message_id: "client-42",
      metadata: JSON.stringify(metadata),
      is_read: 0,
      created_at: sent.createdAt,
      attachments: null,
      erased_at: null,
    });
    customer.close();
  });

  it("mirrors the booking's state to D1, newest version last", async () => {
    const chat = await activeChat();
    const room = bookingRoom(env, chat.bookingId);
    await settleD1(room);
    const active = await d1Of(chat.bookingId)
      .prepare("SELECT status, payment_status, chat_active FROM bookings WHERE id = ?")
      .bind(chat.bookingId)
      .first();
    expect(active).toEqual({ status: "confirmed", payment_status: "paid_to_escrow", chat_active: 1 });
    await api("POST", `/bookings/${chat.bookingId}/cancel`, { jwt: chat.customer.jwt });
    await settleD1(room);
    const cancelled = await d1Of(chat.bookingId)
      .prepare("SELECT status, chat_active, chat_termination_reason FROM bookings WHERE id = ?")
      .bind(chat.bookingId)
      .first();
    expect(cancelled).toEqual({ status: "cancelled", chat_active: 0, chat_termination_reason: "cancelled" });
    const columns = await d1Of(chat.bookingId)
      .prepare("SELECT * FROM bookings WHERE id = ?")
      .bind(chat.bookingId)
      .first();
    expect(JSON.stringify(columns)).not.toContain(chat.customerToken);
  });
});
