import { evictDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { decodeJwt } from "jose";
import { describe, expect, it, vi } from "vitest";
import { MyChatsResponse } from "../src/protocol";
import { bookingRoom } from "../src/rooms";
import { api } from "./helpers/api";
import { accept, activeChat, createBooking, parties, pay } from "./helpers/flow";
import { inbox, joined, openSocketAt } from "./helpers/socket";
import { signUserJwt, type TestUser } from "./helpers/users";

async function myChats(user: TestUser) {
  const res = await api("GET", "/chat/my-chats", { jwt: user.jwt });
  expect(res.status, res.text).toBe(200);
  return MyChatsResponse.parse(res.body).chats;
}

describe("the user inbox (/me/ws)", () => {
  it("gives a customer every lifecycle event of the seed flow, in order, exactly once, on every device", async () => {
    const p = await parties();
    const phone = await inbox(p.customer);
    const laptop = await inbox(p.customer);
    const booking = await createBooking(p);
    await pay(booking.id, p.admin);
    const { chatToken: providerToken } = await accept(booking.id, p.provider);
    const provider = await joined(booking.id, p.provider, providerToken);
    provider.send("booking-chat", { bookingId: booking.id, chatToken: providerToken, message: "On my way!" });
    await provider.expect("booking-chat");
    await api("POST", `/bookings/${booking.id}/complete`, { jwt: p.provider.jwt });

    for (const device of [phone, laptop]) {
      const token = await device.expect("chat-token-received");
      expect(token).toMatchObject({ bookingId: booking.id, role: "customer" });
      expect(await device.expect("booking-accepted")).toMatchObject({ bookingId: booking.id });
      expect(await device.expect("chatroom-ready")).toEqual({ bookingId: booking.id, chatActive: true });
      expect(await device.expect("booking-chat-notification", 10_000)).toEqual({
        bookingId: booking.id,
        seq: 1,
        senderId: p.provider.id,
        senderRole: "provider",
        preview: "On my way!",
      });
      expect(await device.expect("chat-terminated")).toMatchObject({
        bookingId: booking.id,
        reason: "completed",
      });
      await device.barrier();
      expect(device.pending()).toEqual([]);
      // Never the provider's token.
      expect(JSON.stringify(device.received)).not.toContain(providerToken);
      device.close();
    }
    provider.close();
  });

  it("gives the provider its own token and the chat opening, and nothing of the customer's", async () => {
    const p = await parties();
    const providerInbox = await inbox(p.provider);
    const booking = await createBooking(p);
    const { chatToken } = await accept(booking.id, p.provider);
    await pay(booking.id, p.admin);
    expect(await providerInbox.expect("booking-accepted-provider")).toMatchObject({
      chatToken,
      waitingForPayment: true,
    });
    expect(await providerInbox.expect("chatroom-ready")).toEqual({ bookingId: booking.id, chatActive: true });
    await providerInbox.barrier();
    expect(providerInbox.pending()).toEqual([]);
    expect(JSON.stringify(providerInbox.received)).not.toContain("_customer_");
    providerInbox.close();
  });

  it("still delivers after the inbox object is evicted", async () => {
    const p = await parties();
    const customer = await inbox(p.customer);
    await evictDurableObject(env.USER_INBOX.get(env.USER_INBOX.idFromName(`customer:${p.customer.id}`)));
    const booking = await createBooking(p);
    await pay(booking.id, p.admin);
    expect(await customer.expect("chat-token-received")).toMatchObject({ bookingId: booking.id });
    customer.close();
  });

  it("belongs to a user id in one role: the same id with another role hears nothing", async () => {
    const p = await parties();
    const impostor = await inbox({ ...p.provider, jwt: await signUserJwt(p.provider.id, "customer") });
    const real = await inbox(p.provider);
    const booking = await createBooking(p);
    const { chatToken } = await accept(booking.id, p.provider);
    expect(await real.expect("booking-accepted-provider")).toMatchObject({ chatToken });
    await impostor.barrier();
    expect(impostor.received).toEqual([]);
    impostor.close();
    real.close();
  });

  it("closes, instead of feeding, a socket whose JWT has expired", async () => {
    const p = await parties();
    const jwt = await signUserJwt(p.customer.id, "customer", { expiresIn: "2s" });
    const expiring = await inbox({ ...p.customer, jwt });
    await vi.waitUntil(() => Date.now() > (decodeJwt(jwt).exp ?? 0) * 1000, {
      timeout: 5_000,
      interval: 100,
    });
    const booking = await createBooking(p);
    await pay(booking.id, p.admin);
    await vi.waitUntil(() => expiring.closed, { timeout: 5_000 });
    expect(expiring.closed?.code).toBe(4401);
    expect(expiring.received).toEqual([]);
  });

  it("needs a valid JWT", async () => {
    const { socket, response } = await openSocketAt("/me/ws", null);
    expect(socket).toBeNull();
    expect(response.status).toBe(401);
  });
});

describe("my chats and read state", () => {
  it("counts unread messages up as they arrive and down with mark-read; admins reading changes nothing", async () => {
    const p = await parties();
    const booking = await createBooking(p);
    await pay(booking.id, p.admin);
    const { chatToken: providerToken } = await accept(booking.id, p.provider);
    const customerToken = (
      (await api("GET", `/chat/booking/${booking.id}/token`, { jwt: p.customer.jwt })).body as {
        chatToken: string;
      }
    ).chatToken;
    const provider = await joined(booking.id, p.provider, providerToken);
    const customer = await joined(booking.id, p.customer, customerToken);
    const admin = await joined(booking.id, p.admin);

    expect(await myChats(p.customer)).toEqual([
      expect.objectContaining({
        bookingId: booking.id,
        status: "confirmed",
        chatActive: true,
        unreadCount: 0,
      }),
    ]);
    for (let i = 1; i <= 3; i++) {
      provider.send("booking-chat", { bookingId: booking.id, chatToken: providerToken, message: `p${i}` });
      for (const s of [provider, customer, admin]) await s.expect("booking-chat");
    }
    await expect.poll(async () => (await myChats(p.customer))[0]?.unreadCount).toBe(3);
    const [chat] = await myChats(p.customer);
    expect(chat?.lastMessage).toMatchObject({ seq: 3, content: "p3", isRead: false });
    expect((await myChats(p.provider))[0]?.unreadCount).toBe(0);

    admin.send("mark-read", { bookingId: booking.id, seq: 3 });
    expect(await admin.expect("chat-error")).toMatchObject({ code: "not_authorized" });
    const adminHistory = await api("GET", `/chat/booking/${booking.id}`, { jwt: p.admin.jwt });
    expect((adminHistory.body as { messages: { isRead: boolean }[] }).messages.map((m) => m.isRead)).toEqual([
      false,
      false,
      false,
    ]);
    expect((await myChats(p.customer))[0]?.unreadCount).toBe(3);

    customer.send("mark-read", { bookingId: booking.id, seq: 2 });
    expect(await provider.expect("messages-read")).toEqual({
      bookingId: booking.id,
      readerId: p.customer.id,
      seq: 2,
    });
    await expect.poll(async () => (await myChats(p.customer))[0]?.unreadCount).toBe(1);

    const read = (res: { body: unknown }) =>
      (res.body as { messages: { isRead: boolean }[] }).messages.map((m) => m.isRead);
    const asCustomer = await api("GET", `/chat/booking/${booking.id}`, {
      jwt: p.customer.jwt,
      headers: { "X-Chat-Token": customerToken },
    });
    expect(read(asCustomer)).toEqual([true, true, false]);
    const asProvider = await api("GET", `/chat/booking/${booking.id}`, {
      jwt: p.provider.jwt,
      headers: { "X-Chat-Token": providerToken },
    });
    expect(read(asProvider)).toEqual([true, true, false]);
    expect(read(await api("GET", `/chat/booking/${booking.id}`, { jwt: p.admin.jwt }))).toEqual([
      true,
      true,
      false,
    ]);

    // Going backwards or past the end (even by one) changes nothing.
    customer.send("mark-read", { bookingId: booking.id, seq: 1 });
    customer.send("mark-read", { bookingId: booking.id, seq: 4 });
    expect(await customer.expect("chat-error")).toMatchObject({ code: "invalid_payload" });
    customer.send("mark-read", { bookingId: booking.id, seq: 99 });
    expect(await customer.expect("chat-error")).toMatchObject({ code: "invalid_payload" });
    await provider.barrier();
    expect(provider.pending()).toEqual([]);
    expect((await myChats(p.customer))[0]?.unreadCount).toBe(1);
    for (const s of [provider, customer, admin]) s.close();
  });

  it("counts only the other party's messages as unread, also when the room recounts after an eviction", async () => {
    const chat = await activeChat();
    const customer = await joined(chat.bookingId, chat.customer, chat.customerToken);
    const provider = await joined(chat.bookingId, chat.provider, chat.providerToken);
    const say = async (from: typeof customer, chatToken: string, message: string) => {
      from.send("booking-chat", { bookingId: chat.bookingId, chatToken, message });
      await from.expect("booking-chat");
    };
    await say(customer, chat.customerToken, "c1");
    await say(customer, chat.customerToken, "c2");
    await say(provider, chat.providerToken, "p1");
    await say(customer, chat.customerToken, "c3");
    customer.close();
    provider.close();

    // Evicted, the room has no running counts left and counts from its log.
    await evictDurableObject(bookingRoom(env, chat.bookingId));
    expect((await myChats(chat.provider))[0]?.unreadCount).toBe(3);
    expect((await myChats(chat.customer))[0]?.unreadCount).toBe(1);
  });

  it("lists the caller's chats, newest activity first", async () => {
    const p = await parties();
    const first = await createBooking(p);
    const second = await createBooking(p);
    await expect
      .poll(async () => (await myChats(p.customer)).map((c) => c.bookingId))
      .toEqual([second.id, first.id]);
    await pay(first.id, p.admin);
    await expect
      .poll(async () => (await myChats(p.customer)).map((c) => c.bookingId))
      .toEqual([first.id, second.id]);
    expect((await myChats(p.provider)).map((c) => c.bookingId).sort()).toEqual([first.id, second.id].sort());
    const stranger = await parties();
    expect(await myChats(stranger.customer)).toEqual([]);
  });
});
