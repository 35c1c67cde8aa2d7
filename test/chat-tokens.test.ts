import { describe, expect, it } from "vitest";
import { generateChatToken, parseChatToken } from "../src/auth/chat-token";
import { api, field } from "./helpers/api";
import { accept, activeChat, createBooking, parties, pay } from "./helpers/flow";
import { connect } from "./helpers/socket";

async function joinWith(bookingId: string, user: Parameters<typeof connect>[1], chatToken: string) {
  const socket = await connect(bookingId, user);
  socket.send("join-booking", { bookingId, chatToken });
  const reply = await socket.next();
  socket.close();
  return reply;
}

describe("chat token format", () => {
  it("is {bookingId}_{role}_{base64url HMAC} and differs per booking, user, role and issue time", () => {
    const secret = "unit-test-secret-0123456789";
    const at = "2026-11-24T00:00:00.000Z";
    const token = generateChatToken(secret, "b-1", "u-1", "customer", at);
    expect(token).toMatch(/^b-1_customer_[A-Za-z0-9_-]{43}$/);
    expect(parseChatToken(token)).toEqual({
      bookingId: "b-1",
      role: "customer",
      hash: token.slice("b-1_customer_".length),
    });
    const variants = [
      generateChatToken(secret, "b-2", "u-1", "customer", at),
      generateChatToken(secret, "b-1", "u-2", "customer", at),
      generateChatToken(secret, "b-1", "u-1", "provider", at),
      generateChatToken(secret, "b-1", "u-1", "customer", "2026-11-24T00:00:00.001Z"),
      generateChatToken("another-secret-0123456789", "b-1", "u-1", "customer", at),
    ];
    const hashes = new Set([token, ...variants].map((t) => parseChatToken(t)?.hash));
    expect(hashes.size).toBe(6);
    for (const bad of ["", "b-1", "b-1_customer", "b-1_admin_abc", "_customer_abc", "b-1_customer_"]) {
      expect(parseChatToken(bad), bad).toBeNull();
    }
  });
});

describe("chat token checks", () => {
  it("rejects the other role's token, another booking's token and an altered hash", async () => {
    const chat = await activeChat();
    const other = await activeChat();
    const flipped = `${chat.customerToken.slice(0, -1)}${chat.customerToken.endsWith("A") ? "B" : "A"}`;
    const attempts: [typeof chat.customer, string][] = [
      [chat.customer, chat.providerToken],
      [chat.provider, chat.customerToken],
      [chat.customer, other.customerToken],
      [chat.customer, `${chat.bookingId}_customer_${other.customerToken.split("_customer_")[1]}`],
      [chat.customer, flipped],
      [chat.customer, `${chat.customerToken}x`],
      [chat.customer, chat.customerToken.replace("_customer_", "_provider_")],
    ];
    for (const [user, token] of attempts) {
      expect(await joinWith(chat.bookingId, user, token)).toEqual({
        event: "chat-error",
        data: { code: "invalid_token", message: "Invalid chat token", bookingId: chat.bookingId },
      });
    }
    expect((await joinWith(chat.bookingId, chat.customer, chat.customerToken)).event).toBe("booking-joined");
  });

  it("rejects a valid token once the chat is terminated", async () => {
    const chat = await activeChat();
    await api("POST", `/bookings/${chat.bookingId}/complete`, { jwt: chat.provider.jwt });
    const reply = await joinWith(chat.bookingId, chat.customer, chat.customerToken);
    expect(reply).toMatchObject({ event: "chat-error", data: { code: "chat_terminated" } });
  });

  it("hands each party its own token over HTTP once issued, and nobody else's", async () => {
    const p = await parties();
    const stranger = await parties();
    const booking = await createBooking(p);
    for (const user of [p.customer, p.provider]) {
      const res = await api("GET", `/chat/booking/${booking.id}/token`, { jwt: user.jwt });
      expect(res.status).toBe(404);
      expect(field(res.body, "error", "code")).toBe("token_not_issued");
    }
    await pay(booking.id, p.admin);
    const customer = await api("GET", `/chat/booking/${booking.id}/token`, { jwt: p.customer.jwt });
    expect(customer.body).toEqual({
      bookingId: booking.id,
      role: "customer",
      chatToken: expect.stringMatching(new RegExp(`^${booking.id}_customer_`)),
      chatActive: false,
    });
    const accepted = await accept(booking.id, p.provider);
    const provider = await api("GET", `/chat/booking/${booking.id}/token`, { jwt: p.provider.jwt });
    expect(provider.body).toEqual({
      bookingId: booking.id,
      role: "provider",
      chatToken: accepted.chatToken,
      chatActive: true,
    });

    for (const user of [p.admin, stranger.customer, stranger.provider]) {
      const res = await api("GET", `/chat/booking/${booking.id}/token`, { jwt: user.jwt });
      expect(res.status).toBe(403);
      expect(res.text).not.toContain("_customer_");
    }
  });
});
