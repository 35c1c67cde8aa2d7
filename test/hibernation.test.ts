import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { decodeJwt } from "jose";
import { describe, expect, it, vi } from "vitest";
import { HistoryResponse } from "../src/protocol";
import { bookingRoom } from "../src/rooms";
import { api } from "./helpers/api";
import { activeChat } from "./helpers/flow";
import { connect, joined } from "./helpers/socket";
import { newAdmin, signUserJwt } from "./helpers/users";

describe("a room that hibernates or is evicted between messages", () => {
  it("still knows who joined: a socket sends after eviction without re-joining", async () => {
    const chat = await activeChat();
    const customer = await joined(chat.bookingId, chat.customer, chat.customerToken);
    const provider = await joined(chat.bookingId, chat.provider, chat.providerToken);
    const admin = await joined(chat.bookingId, chat.admin);
    const room = bookingRoom(env, chat.bookingId);

    customer.send("booking-chat", {
      bookingId: chat.bookingId,
      chatToken: chat.customerToken,
      message: "before",
    });
    expect(await provider.expect("booking-chat")).toMatchObject({ seq: 1, content: "before" });

    await evictDurableObject(room);

    customer.send("booking-chat", {
      bookingId: chat.bookingId,
      chatToken: chat.customerToken,
      message: "after",
    });
    const after = await provider.expect("booking-chat");
    expect(after).toMatchObject({
      seq: 2,
      content: "after",
      senderId: chat.customer.id,
      senderRole: "customer",
    });
    expect(await admin.expect("booking-chat")).toMatchObject({ seq: 1 });
    expect(await admin.expect("booking-chat")).toEqual(after);

    await evictDurableObject(room);
    provider.send("booking-chat", {
      bookingId: chat.bookingId,
      chatToken: chat.providerToken,
      message: "reply",
    });
    expect(await customer.expect("booking-chat")).toMatchObject({ seq: 1 });
    expect(await customer.expect("booking-chat")).toMatchObject({ seq: 2 });
    expect(await customer.expect("booking-chat")).toMatchObject({ seq: 3, senderRole: "provider" });
    expect(await admin.expect("booking-chat")).toMatchObject({ seq: 3 });

    // Admins stay read-only after waking up too.
    await evictDurableObject(room);
    admin.send("booking-chat", { bookingId: chat.bookingId, chatToken: chat.customerToken, message: "x" });
    expect(await admin.expect("chat-error")).toMatchObject({ code: "not_authorized" });
    for (const s of [customer, provider, admin]) s.close();
  });

  it("does not let a socket that never joined send after a wake-up", async () => {
    const chat = await activeChat();
    const customer = await connect(chat.bookingId, chat.customer);
    await evictDurableObject(bookingRoom(env, chat.bookingId));
    customer.send("booking-chat", {
      bookingId: chat.bookingId,
      chatToken: chat.customerToken,
      message: "sneaky",
    });
    expect(await customer.expect("chat-error")).toMatchObject({ code: "not_joined" });
    customer.close();
  });

  it("delivers lifecycle events to the right sockets after eviction", async () => {
    const chat = await activeChat();
    const customer = await joined(chat.bookingId, chat.customer, chat.customerToken);
    const provider = await connect(chat.bookingId, chat.provider);
    await evictDurableObject(bookingRoom(env, chat.bookingId));

    const completed = await api("POST", `/bookings/${chat.bookingId}/complete`, { jwt: chat.provider.jwt });
    expect(completed.status).toBe(200);
    for (const socket of [customer, provider]) {
      expect(await socket.expect("chat-terminated")).toMatchObject({
        bookingId: chat.bookingId,
        reason: "completed",
        message: "Chat has been terminated as the job is completed",
      });
    }
    customer.close();
    provider.close();
  });
});

/** A live chat whose customer joined with a JWT that has since expired; the provider joined too. */
async function customerWithExpiredJwt() {
  const chat = await activeChat();
  const jwt = await signUserJwt(chat.customer.id, "customer", { expiresIn: "2s" });
  const expiresAt = decodeJwt(jwt).exp ?? 0;
  const socket = await connect(chat.bookingId, chat.customer, { jwt });
  socket.send("join-booking", { bookingId: chat.bookingId, chatToken: chat.customerToken });
  await socket.expect("booking-joined");
  const provider = await joined(chat.bookingId, chat.provider, chat.providerToken);
  await vi.waitUntil(() => Date.now() > expiresAt * 1000, { timeout: 5_000, interval: 100 });
  return { chat, socket, provider };
}

describe("socket credentials", () => {
  it("closes a socket with 4401 once its JWT has expired, and its frame is neither stored nor delivered", async () => {
    const { chat, socket, provider } = await customerWithExpiredJwt();
    socket.send("booking-chat", {
      bookingId: chat.bookingId,
      chatToken: chat.customerToken,
      message: "late",
    });
    await vi.waitUntil(() => socket.closed, { timeout: 5_000 });
    expect(socket.closed?.code).toBe(4401);
    expect(socket.received.filter((f) => f.event === "booking-chat")).toEqual([]);

    // The room handles frames in order: once the provider's own message is back, "late" is decided.
    provider.send("booking-chat", {
      bookingId: chat.bookingId,
      chatToken: chat.providerToken,
      message: "after",
    });
    expect(await provider.expect("booking-chat")).toMatchObject({ seq: 1, content: "after" });
    const history = await api("GET", `/chat/booking/${chat.bookingId}`, { jwt: chat.admin.jwt });
    expect(history.status).toBe(200);
    expect(HistoryResponse.parse(history.body).messages.map((m) => m.content)).toEqual(["after"]);
    provider.close();
  });

  it("delivers nothing to a socket whose JWT has expired: the next broadcast closes it with 4401", async () => {
    const { chat, socket: customer, provider } = await customerWithExpiredJwt();
    provider.send("booking-chat", {
      bookingId: chat.bookingId,
      chatToken: chat.providerToken,
      message: "secret",
    });
    expect(await provider.expect("booking-chat")).toMatchObject({ seq: 1, content: "secret" });
    await vi.waitUntil(() => customer.closed, { timeout: 5_000 });
    expect(customer.closed?.code).toBe(4401);
    expect(customer.received.filter((f) => f.event === "booking-chat")).toEqual([]);
    provider.close();
  });
});

describe("probing", () => {
  it("leaves no storage behind for a booking id that does not exist", async () => {
    const admin = await newAdmin();
    const bookingId = crypto.randomUUID();
    expect((await api("GET", `/bookings/${bookingId}`, { jwt: admin.jwt })).status).toBe(404);
    expect((await api("GET", `/chat/booking/${bookingId}`, { jwt: admin.jwt })).status).toBe(404);
    const tables = await runInDurableObject(bookingRoom(env, bookingId), (_, state) =>
      state.storage.sql
        .exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\'")
        .toArray(),
    );
    expect(tables).toEqual([]);
  });
});
