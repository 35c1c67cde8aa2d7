import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { bookingRoom } from "../src/rooms";
import { api } from "./helpers/api";
import { d1Of, settleD1 } from "./helpers/d1";
import { accept, createBooking, parties, pay } from "./helpers/flow";
import { connect } from "./helpers/socket";

describe("the seed's example flow", () => {
  it("books, pays, accepts, chats with an admin watching, completes, and then refuses messages", async () => {
    const p = await parties();
    const booking = await createBooking(p);
    expect(booking).toMatchObject({ status: "pending_payment", paymentStatus: "pending", chatActive: false });

    const customer = await connect(booking.id, p.customer);
    const provider = await connect(booking.id, p.provider, { via: "subprotocol" });
    const admin = await connect(booking.id, p.admin);

    const paid = await pay(booking.id, p.admin);
    expect(paid).toMatchObject({
      status: "paid_to_escrow",
      paymentStatus: "paid_to_escrow",
      chatActive: false,
    });
    const tokenEvent = await customer.expect("chat-token-received");
    expect(tokenEvent.chatToken.startsWith(`${booking.id}_customer_`)).toBe(true);

    const accepted = await accept(booking.id, p.provider);
    expect(accepted.waitingForPayment).toBe(false);
    expect(accepted.booking).toMatchObject({ status: "confirmed", chatActive: true });
    const providerEvent = await provider.expect("booking-accepted-provider");
    expect(providerEvent).toEqual({
      bookingId: booking.id,
      message: expect.any(String),
      chatToken: accepted.chatToken,
      waitingForPayment: false,
    });
    expect(await customer.expect("booking-accepted")).toEqual({
      bookingId: booking.id,
      message: expect.any(String),
    });
    expect(await customer.expect("chatroom-ready")).toEqual({ bookingId: booking.id, chatActive: true });
    expect(await provider.expect("chatroom-ready")).toEqual({ bookingId: booking.id, chatActive: true });

    customer.send("join-booking", { bookingId: booking.id, chatToken: tokenEvent.chatToken });
    expect(await customer.expect("booking-joined")).toEqual({
      bookingId: booking.id,
      chatActive: true,
      role: "customer",
      lastSeq: 0,
    });
    provider.send("join-booking", { bookingId: booking.id, chatToken: accepted.chatToken });
    expect(await provider.expect("booking-joined")).toMatchObject({ role: "provider", chatActive: true });
    admin.send("join-booking", { bookingId: booking.id });
    expect(await admin.expect("booking-accepted")).toMatchObject({ bookingId: booking.id });
    expect(await admin.expect("chatroom-ready")).toMatchObject({ bookingId: booking.id });
    expect(await admin.expect("booking-joined")).toMatchObject({ role: "admin", chatActive: true });

    customer.send("booking-chat", {
      bookingId: booking.id,
      chatToken: tokenEvent.chatToken,
      message: "Hi, when can you come?",
      clientMessageId: "c-1",
    });
    const first = await customer.expect("booking-chat");
    expect(first).toMatchObject({
      bookingId: booking.id,
      seq: 1,
      senderId: p.customer.id,
      senderRole: "customer",
      content: "Hi, when can you come?",
      chatType: "booking",
      clientMessageId: "c-1",
      metadata: null,
      isRead: false,
    });
    expect(await provider.expect("booking-chat")).toEqual(first);
    expect(await admin.expect("booking-chat")).toEqual(first);

    provider.send("booking-chat", {
      bookingId: booking.id,
      chatToken: accepted.chatToken,
      message: "Tomorrow at 9",
      metadata: { eta: "09:00" },
    });
    const second = await provider.expect("booking-chat");
    expect(second).toMatchObject({ seq: 2, senderRole: "provider", metadata: { eta: "09:00" } });
    expect(await customer.expect("booking-chat")).toEqual(second);
    expect(await admin.expect("booking-chat")).toEqual(second);

    const completed = await api("POST", `/bookings/${booking.id}/complete`, { jwt: p.provider.jwt });
    expect(completed.status).toBe(200);
    for (const socket of [customer, provider, admin]) {
      expect(await socket.expect("chat-terminated")).toEqual({
        bookingId: booking.id,
        message: "Chat has been terminated as the job is completed",
        reason: "completed",
        terminatedAt: expect.any(String),
      });
    }

    customer.send("booking-chat", {
      bookingId: booking.id,
      chatToken: tokenEvent.chatToken,
      message: "One more?",
    });
    expect(await customer.expect("chat-error")).toMatchObject({ code: "chat_terminated" });

    // Every accepted message reaches D1 through the outbox, exactly once.
    await settleD1(bookingRoom(env, booking.id));
    const rows = await d1Of(booking.id)
      .prepare("SELECT seq, content FROM messages WHERE conversation_id = ? ORDER BY seq")
      .bind(booking.id)
      .all();
    expect(rows.results).toEqual([
      { seq: 1, content: "Hi, when can you come?" },
      { seq: 2, content: "Tomorrow at 9" },
    ]);
    const mirrored = await d1Of(booking.id)
      .prepare("SELECT status, chat_active, chat_terminated_at FROM bookings WHERE id = ?")
      .bind(booking.id)
      .first();
    expect(mirrored).toMatchObject({
      status: "completed",
      chat_active: 0,
      chat_terminated_at: expect.any(String),
    });

    for (const socket of [customer, provider, admin]) {
      expect(socket.pending()).toEqual([]);
      socket.close();
    }
  });
});
