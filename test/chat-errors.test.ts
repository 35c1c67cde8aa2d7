import { describe, expect, it } from "vitest";
import { MAX_MESSAGE_CHARS } from "../src/protocol";
import { api, field } from "./helpers/api";
import { accept, activeChat, chatToken, createBooking, parties, pay } from "./helpers/flow";
import { connect, joined } from "./helpers/socket";

describe("chat-error", () => {
  it("explains every malformed frame and keeps the socket open", async () => {
    const chat = await activeChat();
    const socket = await joined(chat.bookingId, chat.customer, chat.customerToken);
    const bad: [string | ArrayBuffer, RegExp][] = [
      ["not json", /valid JSON/],
      ["[1,2,3]", /Frame must be/],
      ['{"event":"booking-chat"}', /Frame must be/],
      ['{"event":42,"data":{}}', /Frame must be/],
      ['{"event":"shout","data":{}}', /Unknown event "shout"/],
      ['{"event":"__proto__","data":{}}', /Unknown event/],
      ['{"event":"toString","data":{}}', /Unknown event/],
      [JSON.stringify({ event: "booking-chat", data: { bookingId: chat.bookingId, message: 5 } }), /payload/],
      [JSON.stringify({ event: "join-booking", data: { bookingId: chat.bookingId, extra: 1 } }), /payload/],
      [new Uint8Array([123, 125]).buffer as ArrayBuffer, /Binary/],
      ["x".repeat(70_000), /too large/],
      ["€".repeat(30_000), /too large/],
      [`${"[".repeat(5000)}${"]".repeat(5000)}`, /Frame must be|valid JSON/],
    ];
    for (const [frame, message] of bad) {
      socket.sendRaw(frame);
      const error = await socket.expect("chat-error");
      expect(error.code).toBe("invalid_payload");
      expect(error.message).toMatch(message);
    }
    socket.send("booking-chat", {
      bookingId: chat.bookingId,
      chatToken: chat.customerToken,
      message: "still ok",
    });
    expect(await socket.expect("booking-chat")).toMatchObject({ seq: 1, content: "still ok" });
    expect(socket.closed).toBeNull();
    socket.close();
  });

  it("rejects empty, too long and over-sized metadata messages, storing nothing", async () => {
    const chat = await activeChat();
    const socket = await joined(chat.bookingId, chat.provider, chat.providerToken);
    const base = { bookingId: chat.bookingId, chatToken: chat.providerToken };
    const cases: [Record<string, unknown>, string][] = [
      [{ ...base, message: "" }, "message_empty"],
      [{ ...base, message: "  \n\t " }, "message_empty"],
      [{ ...base, message: "a".repeat(MAX_MESSAGE_CHARS + 1) }, "message_too_long"],
      [{ ...base, message: "ok", metadata: { blob: "x".repeat(2100) } }, "metadata_too_large"],
    ];
    for (const [data, code] of cases) {
      socket.send("booking-chat", { ...data, clientMessageId: `m-${code}` });
      expect(await socket.expect("chat-error")).toMatchObject({ code, clientMessageId: `m-${code}` });
    }
    // Exactly 4000 characters (emoji count as one) is allowed.
    const longest = "😀".repeat(MAX_MESSAGE_CHARS);
    socket.send("booking-chat", { ...base, message: longest });
    expect(await socket.expect("booking-chat")).toMatchObject({ seq: 1, content: longest });
    socket.close();
  });

  it("requires a join before sending, and a valid token for both", async () => {
    const chat = await activeChat();
    const socket = await connect(chat.bookingId, chat.customer);
    socket.send("booking-chat", { bookingId: chat.bookingId, chatToken: chat.customerToken, message: "hi" });
    expect(await socket.expect("chat-error")).toMatchObject({ code: "not_joined" });

    socket.send("join-booking", { bookingId: chat.bookingId });
    expect(await socket.expect("chat-error")).toEqual({
      code: "invalid_token",
      message: "Invalid chat token",
      bookingId: chat.bookingId,
    });
    socket.send("join-booking", { bookingId: chat.bookingId, chatToken: chat.providerToken });
    expect(await socket.expect("chat-error")).toMatchObject({
      code: "invalid_token",
      message: "Invalid chat token",
    });

    socket.send("join-booking", { bookingId: chat.bookingId, chatToken: chat.customerToken });
    await socket.expect("booking-joined");
    socket.send("booking-chat", { bookingId: chat.bookingId, chatToken: chat.providerToken, message: "hi" });
    expect(await socket.expect("chat-error")).toMatchObject({
      code: "invalid_token",
      message: "Invalid chat token",
    });
    // A party that leaves the token out is told the token is what is wrong, not the frame's shape.
    socket.send("booking-chat", { bookingId: chat.bookingId, message: "hi" });
    expect(await socket.expect("chat-error")).toMatchObject({ code: "invalid_token" });
    socket.close();
  });

  it("tells an admin who sends in a booking chat that admins cannot, with or without a token", async () => {
    const chat = await activeChat();
    const admin = await joined(chat.bookingId, chat.admin);
    admin.send("booking-chat", { bookingId: chat.bookingId, message: "hello from support" });
    expect(await admin.expect("chat-error")).toMatchObject({ code: "not_authorized" });
    admin.send("booking-chat", { bookingId: chat.bookingId, chatToken: "x", message: "hello" });
    expect(await admin.expect("chat-error")).toMatchObject({ code: "not_authorized" });
    admin.close();
  });

  it("refuses a join or message aimed at another booking on this connection", async () => {
    const chat = await activeChat();
    const other = await activeChat();
    const socket = await joined(chat.bookingId, chat.customer, chat.customerToken);
    socket.send("join-booking", { bookingId: other.bookingId, chatToken: other.customerToken });
    expect(await socket.expect("chat-error")).toMatchObject({ code: "booking_not_found" });
    socket.send("booking-chat", { bookingId: other.bookingId, chatToken: other.customerToken, message: "x" });
    expect(await socket.expect("chat-error")).toMatchObject({ code: "booking_not_found" });
    socket.close();
  });

  it("says the chat is not active yet while only one token exists", async () => {
    const p = await parties();
    const booking = await createBooking(p);
    await pay(booking.id, p.admin);
    const token = await chatToken(booking.id, p.customer);
    const socket = await connect(booking.id, p.customer);
    socket.send("join-booking", { bookingId: booking.id, chatToken: token });
    expect(await socket.expect("booking-joined")).toMatchObject({ chatActive: false, lastSeq: 0 });
    socket.send("booking-chat", { bookingId: booking.id, chatToken: token, message: "anyone?" });
    expect(await socket.expect("chat-error")).toMatchObject({ code: "chat_not_active" });

    await accept(booking.id, p.provider);
    await socket.expect("booking-accepted");
    await socket.expect("chatroom-ready");
    socket.send("booking-chat", { bookingId: booking.id, chatToken: token, message: "anyone?" });
    expect(await socket.expect("booking-chat")).toMatchObject({ seq: 1 });
    socket.close();
  });

  it("lets admins watch but never send", async () => {
    const chat = await activeChat();
    const admin = await joined(chat.bookingId, chat.admin);
    admin.send("booking-chat", {
      bookingId: chat.bookingId,
      chatToken: chat.customerToken,
      message: "admin here",
    });
    expect(await admin.expect("chat-error")).toMatchObject({ code: "not_authorized" });

    const customer = await joined(chat.bookingId, chat.customer, chat.customerToken);
    customer.send("booking-chat", {
      bookingId: chat.bookingId,
      chatToken: chat.customerToken,
      message: "first",
    });
    expect(await customer.expect("booking-chat")).toMatchObject({ seq: 1, content: "first" });
    expect(await admin.expect("booking-chat")).toMatchObject({ seq: 1, content: "first" });
    admin.close();
    customer.close();
  });

  it("does not disturb other users when one sends garbage", async () => {
    const chat = await activeChat();
    const customer = await joined(chat.bookingId, chat.customer, chat.customerToken);
    const provider = await joined(chat.bookingId, chat.provider, chat.providerToken);
    for (let i = 0; i < 20; i++) provider.sendRaw(i % 2 ? "{" : new Uint8Array([1, 2, 3]).buffer);
    customer.send("booking-chat", {
      bookingId: chat.bookingId,
      chatToken: chat.customerToken,
      message: "hello",
    });
    expect(await customer.expect("booking-chat")).toMatchObject({ seq: 1, content: "hello" });
    // The provider's own errors and the customer's message interleave in any order.
    const frames = [];
    for (let i = 0; i < 21; i++) frames.push(await provider.next());
    expect(frames.filter((f) => f.event === "chat-error" && f.data.code === "invalid_payload")).toHaveLength(
      20,
    );
    expect(frames.filter((f) => f.event === "booking-chat" && f.data.content === "hello")).toHaveLength(1);
    expect(customer.closed).toBeNull();
    expect(provider.closed).toBeNull();
    customer.close();
    provider.close();
  });

  it("numbers messages 1, 2, 3... with no gaps, interleaving both parties", async () => {
    const chat = await activeChat();
    const customer = await joined(chat.bookingId, chat.customer, chat.customerToken);
    const provider = await joined(chat.bookingId, chat.provider, chat.providerToken);
    for (let i = 0; i < 10; i++) {
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
    const seen: number[] = [];
    for (let i = 0; i < 20; i++) seen.push((await customer.expect("booking-chat")).seq);
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    const providerSeen: number[] = [];
    for (let i = 0; i < 20; i++) providerSeen.push((await provider.expect("booking-chat")).seq);
    expect(providerSeen).toEqual(seen);
    customer.close();
    provider.close();
  });

  it("stores a resent clientMessageId once and answers the sender with the stored message", async () => {
    const chat = await activeChat();
    const customer = await joined(chat.bookingId, chat.customer, chat.customerToken);
    const provider = await joined(chat.bookingId, chat.provider, chat.providerToken);
    const data = {
      bookingId: chat.bookingId,
      chatToken: chat.customerToken,
      message: "once",
      clientMessageId: "dup-1",
    };
    customer.send("booking-chat", data);
    const stored = await customer.expect("booking-chat");
    customer.send("booking-chat", data);
    expect(await customer.expect("booking-chat")).toEqual(stored);
    expect(await provider.expect("booking-chat")).toEqual(stored);
    await provider.barrier();
    expect(provider.pending()).toEqual([]);
    // The id decides, not the text: a resend with other content still gets the stored copy.
    customer.send("booking-chat", { ...data, message: "once, edited" });
    expect(await customer.expect("booking-chat")).toEqual(stored);
    const history = await api("GET", `/chat/booking/${chat.bookingId}`, { jwt: chat.admin.jwt });
    expect(field(history.body, "messages")).toEqual([{ ...stored, isRead: false }]);

    // Client message ids belong to their sender: the provider's "dup-1" is a message of its own.
    provider.send("booking-chat", { ...data, chatToken: chat.providerToken, message: "mine" });
    expect(await provider.expect("booking-chat")).toMatchObject({
      seq: 2,
      content: "mine",
      clientMessageId: "dup-1",
    });

    // A resend after the chat closed still gets its acknowledgement instead of an error.
    await api("POST", `/bookings/${chat.bookingId}/complete`, { jwt: chat.admin.jwt });
    await customer.expect("booking-chat");
    await customer.expect("chat-terminated");
    customer.send("booking-chat", data);
    expect(await customer.expect("booking-chat")).toEqual(stored);
    customer.send("booking-chat", { ...data, clientMessageId: "new-after-close" });
    expect(await customer.expect("chat-error")).toMatchObject({ code: "chat_terminated" });
    customer.close();
    provider.close();
  });
});
