import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { AcceptResponse, BookingResponse, HistoryResponse, Message } from "../../src/protocol";
import { call, runningService, SeedClient, type Service, settle, uniqueId, userJwt } from "./service";

// The seed's apps, unchanged but for `transports: ["websocket"]`: the real socket.io-client
// against the running service, with the seed's own emits and payloads.

let service: Service;
let base: string;
const open: SeedClient[] = [];

beforeAll(async () => {
  service = await runningService();
  base = service.base;
});

afterAll(async () => {
  for (const client of open) client.close();
  await service?.stop();
});

type User = { id: string; jwt: string; client: SeedClient };

async function user(role: "customer" | "service_provider" | "admin", name: string): Promise<User> {
  const id = uniqueId(name);
  const jwt = await userJwt(role, id);
  const client = await SeedClient.connect(base, jwt);
  open.push(client);
  return { id, jwt, client };
}

async function book(customer: User, provider: User): Promise<string> {
  const body = { providerId: provider.id, notes: "Leaky tap" };
  const created = await call(base, "POST", "/bookings", customer.jwt, {
    status: 201,
    schema: BookingResponse,
    body,
  });
  return created.booking.id;
}

async function pay(bookingId: string) {
  const admin = await userJwt("admin", "payments");
  await call(base, "POST", `/bookings/${bookingId}/payment`, admin, { status: 200, schema: BookingResponse });
}

function accept(bookingId: string, provider: User) {
  return call(base, "POST", `/bookings/${bookingId}/accept`, provider.jwt, {
    status: 200,
    schema: AcceptResponse,
  });
}

/** The booking's history over HTTP, as an admin reads it (no chat token needed). */
async function history(bookingId: string) {
  const admin = await userJwt("admin", "auditor");
  return (
    await call(base, "GET", `/chat/booking/${bookingId}`, admin, { status: 200, schema: HistoryResponse })
  ).messages;
}

/** A booking paid and accepted, with both parties' chat tokens from the events they heard. */
async function activeBooking(customer: User, provider: User) {
  const bookingId = await book(customer, provider);
  await pay(bookingId);
  await accept(bookingId, provider);
  const customerToken = (await customer.client.next("chat-token-received", (d) => d.bookingId === bookingId))
    .chatToken;
  const providerToken = (
    await provider.client.next("booking-accepted-provider", (d) => d.bookingId === bookingId)
  ).chatToken;
  return { bookingId, customerToken, providerToken };
}

describe("the seed's example flow over Socket.IO", () => {
  it("runs steps 1-8 with the seed's emits and payloads", async () => {
    const customer = await user("customer", "alice");
    const provider = await user("service_provider", "bob");
    const admin = await user("admin", "root");

    // 1. The customer books the provider.
    const bookingId = await book(customer, provider);

    // 2. Payment is confirmed: the customer's token, and the chat is not active yet.
    await pay(bookingId);
    const tokenReceived = await customer.client.next("chat-token-received", (d) => d.bookingId === bookingId);
    expect(tokenReceived).toMatchObject({ bookingId, chatActive: false });
    const customerToken = tokenReceived.chatToken;
    expect(customerToken).toMatch(new RegExp(`^${bookingId}_customer_`));

    // 3. The provider accepts: their own token, and the customer is told without it.
    await accept(bookingId, provider);
    const accepted = await provider.client.next(
      "booking-accepted-provider",
      (d) => d.bookingId === bookingId,
    );
    expect(accepted).toMatchObject({ bookingId, waitingForPayment: false });
    expect(accepted.message).toEqual(expect.any(String));
    const providerToken = accepted.chatToken;
    expect(providerToken).toMatch(new RegExp(`^${bookingId}_provider_`));
    const toCustomer = await customer.client.next("booking-accepted", (d) => d.bookingId === bookingId);
    expect(toCustomer.message).toEqual(expect.any(String));
    expect(JSON.stringify(customer.client.raw("booking-accepted"))).not.toContain(providerToken);

    // 4. Both hear that the chat room is ready, once.
    for (const party of [customer, provider]) {
      expect(await party.client.next("chatroom-ready", (d) => d.bookingId === bookingId)).toEqual({
        bookingId,
        chatActive: true,
      });
    }

    // 5. Both join with their tokens; the admin joins without one.
    customer.client.socket.emit("join-booking", { bookingId, chatToken: customerToken });
    provider.client.socket.emit("join-booking", { bookingId, chatToken: providerToken });
    admin.client.socket.emit("join-booking", { bookingId });
    expect(await customer.client.next("booking-joined")).toMatchObject({
      bookingId,
      role: "customer",
      chatActive: true,
    });
    expect(await provider.client.next("booking-joined")).toMatchObject({ bookingId, role: "provider" });
    expect(await admin.client.next("booking-joined")).toMatchObject({ bookingId, role: "admin" });

    // 6. They chat; every message reaches all three, the sender included.
    customer.client.socket.emit("booking-chat", {
      bookingId,
      message: "Hi, when can you come?",
      chatToken: customerToken,
    });
    for (const party of [customer, provider, admin]) {
      expect(await party.client.next("booking-chat", (m) => m.seq === 1)).toMatchObject({
        bookingId,
        seq: 1,
        senderId: customer.id,
        senderRole: "customer",
        content: "Hi, when can you come?",
        chatType: "booking",
      });
    }
    provider.client.socket.emit("booking-chat", {
      bookingId,
      message: "Tomorrow at 9",
      chatToken: providerToken,
    });
    for (const party of [customer, provider, admin]) {
      expect(await party.client.next("booking-chat", (m) => m.seq === 2)).toMatchObject({
        senderRole: "provider",
        content: "Tomorrow at 9",
      });
    }

    // 7. The admin watches read-only: a message from the admin is refused.
    admin.client.socket.emit("booking-chat", { bookingId, message: "Admin here" });
    expect(await admin.client.next("chat-error")).toMatchObject({ code: "not_authorized" });

    // 8. The job completes: everyone in the room hears the chat end, and a further message is refused.
    await call(base, "POST", `/bookings/${bookingId}/complete`, provider.jwt, {
      status: 200,
      schema: BookingResponse,
    });
    for (const party of [customer, provider, admin]) {
      expect(await party.client.next("chat-terminated", (d) => d.bookingId === bookingId)).toMatchObject({
        bookingId,
        message: "Chat has been terminated as the job is completed",
      });
    }
    customer.client.socket.emit("booking-chat", {
      bookingId,
      message: "One more?",
      chatToken: customerToken,
    });
    expect(await customer.client.next("chat-error", (e) => e.code === "chat_terminated")).toMatchObject({
      message: expect.any(String),
      bookingId,
    });

    // Each heard each lifecycle event exactly once, and two messages each.
    expect(customer.client.all("chatroom-ready")).toHaveLength(1);
    expect(customer.client.all("chat-terminated")).toHaveLength(1);
    expect(customer.client.all("booking-chat")).toHaveLength(2);
    expect(admin.client.all("booking-chat")).toHaveLength(2);

    // History over HTTP shows what was sent over Socket.IO.
    expect((await history(bookingId)).map((m) => m.content)).toEqual([
      "Hi, when can you come?",
      "Tomorrow at 9",
    ]);
  });

  it("opens the chat when acceptance comes before payment", async () => {
    const customer = await user("customer", "carol");
    const provider = await user("service_provider", "dave");
    const bookingId = await book(customer, provider);

    const body = await accept(bookingId, provider);
    expect(body.waitingForPayment).toBe(true);
    expect(
      await provider.client.next("booking-accepted-provider", (d) => d.bookingId === bookingId),
    ).toMatchObject({
      waitingForPayment: true,
      chatToken: body.chatToken,
    });
    await settle();
    expect(provider.client.all("chatroom-ready")).toEqual([]);

    await pay(bookingId);
    expect(await customer.client.next("chat-token-received", (d) => d.bookingId === bookingId)).toMatchObject(
      {
        chatActive: true,
      },
    );
    for (const party of [customer, provider]) {
      await party.client.next("chatroom-ready", (d) => d.bookingId === bookingId);
    }
  });
});

describe("one Socket.IO connection per user", () => {
  it("chats in two bookings on the same connection, each message in its own booking", async () => {
    const customer = await user("customer", "erin");
    const plumber = await user("service_provider", "plumber");
    const painter = await user("service_provider", "painter");
    const pipes = await activeBooking(customer, plumber);
    const walls = await activeBooking(customer, painter);

    await customer.client.emitWithAck("join-booking", {
      bookingId: pipes.bookingId,
      chatToken: pipes.customerToken,
    });
    await customer.client.emitWithAck("join-booking", {
      bookingId: walls.bookingId,
      chatToken: walls.customerToken,
    });
    await plumber.client.emitWithAck("join-booking", {
      bookingId: pipes.bookingId,
      chatToken: pipes.providerToken,
    });
    await painter.client.emitWithAck("join-booking", {
      bookingId: walls.bookingId,
      chatToken: walls.providerToken,
    });

    customer.client.socket.emit("booking-chat", {
      bookingId: pipes.bookingId,
      chatToken: pipes.customerToken,
      message: "Pipes",
    });
    customer.client.socket.emit("booking-chat", {
      bookingId: walls.bookingId,
      chatToken: walls.customerToken,
      message: "Walls",
    });
    expect(await plumber.client.next("booking-chat")).toMatchObject({
      bookingId: pipes.bookingId,
      content: "Pipes",
    });
    expect(await painter.client.next("booking-chat")).toMatchObject({
      bookingId: walls.bookingId,
      content: "Walls",
    });
    await customer.client.next("booking-chat", (m) => m.bookingId === walls.bookingId);
    await settle();
    expect(plumber.client.all("booking-chat").map((m) => m.content)).toEqual(["Pipes"]);
    expect(painter.client.all("booking-chat").map((m) => m.content)).toEqual(["Walls"]);
    expect(
      customer.client
        .all("booking-chat")
        .map((m) => m.content)
        .sort(),
    ).toEqual(["Pipes", "Walls"]);
  });

  it("refuses a booking's messages until it is joined on this connection", async () => {
    const customer = await user("customer", "frank");
    const provider = await user("service_provider", "gina");
    const { bookingId, customerToken } = await activeBooking(customer, provider);
    const reply = await customer.client.emitWithAck("booking-chat", {
      bookingId,
      chatToken: customerToken,
      message: "Too soon",
    });
    expect(reply).toMatchObject({ error: { code: "not_joined" } });
    expect(await customer.client.next("chat-error")).toMatchObject({ code: "not_joined", bookingId });
  });
});

describe("wrong tokens", () => {
  it("refuses to connect without a JWT or with a bad one, with a Socket.IO connect error", async () => {
    const missing = new SeedClient(base, { token: "" });
    open.push(missing);
    expect((await missing.connectError()).message).toMatch(/auth: \{ token/);
    const forged = new SeedClient(base, { token: `${await userJwt("customer", "mallory")}x` });
    open.push(forged);
    expect((await forged.connectError()).message).toMatch(/invalid or expired/);
    const expired = new SeedClient(base, { token: await userJwt("customer", "mallory", "-1s") });
    open.push(expired);
    expect((await expired.connectError()).message).toMatch(/invalid or expired/);
  });

  it("refuses another booking's chat token, another user's, and the other role's", async () => {
    const customer = await user("customer", "henry");
    const provider = await user("service_provider", "ivy");
    const mine = await activeBooking(customer, provider);
    const other = await activeBooking(customer, await user("service_provider", "jack"));
    const stranger = await user("customer", "kim");

    const tries = [
      [customer, { bookingId: mine.bookingId, chatToken: other.customerToken }],
      [customer, { bookingId: mine.bookingId, chatToken: mine.providerToken }],
      [stranger, { bookingId: mine.bookingId, chatToken: mine.customerToken }],
    ] as const;
    for (const [who, data] of tries) {
      const reply = await who.client.emitWithAck("join-booking", data);
      expect(reply).toMatchObject({
        error: { code: expect.stringMatching(/^(invalid_token|not_authorized)$/) },
      });
    }
    expect(customer.client.all("booking-joined")).toEqual([]);
    expect(stranger.client.all("booking-joined")).toEqual([]);
  });
});

describe("acknowledgements", () => {
  it("answers a send with the stored message, a resend with the same one, and an error with the error", async () => {
    const customer = await user("customer", "liam");
    const provider = await user("service_provider", "mia");
    const { bookingId, customerToken, providerToken } = await activeBooking(customer, provider);
    expect(
      await customer.client.emitWithAck("join-booking", { bookingId, chatToken: customerToken }),
    ).toMatchObject({
      bookingId,
      role: "customer",
      lastSeq: 0,
    });
    await provider.client.emitWithAck("join-booking", { bookingId, chatToken: providerToken });

    const data = { bookingId, chatToken: customerToken, message: "On my way?", clientMessageId: "m-1" };
    const stored = Message.parse(await customer.client.emitWithAck("booking-chat", data));
    expect(stored).toMatchObject({ bookingId, seq: 1, content: "On my way?", clientMessageId: "m-1" });
    const again = await customer.client.emitWithAck("booking-chat", data);
    expect(again).toEqual(stored);

    const empty = await customer.client.emitWithAck("booking-chat", {
      ...data,
      message: "",
      clientMessageId: "m-2",
    });
    expect(empty).toMatchObject({ error: { code: "message_empty" } });

    await provider.client.next("booking-chat");
    await settle();
    // The provider heard the message once; the resend and the refused one reached nobody.
    expect(provider.client.all("booking-chat")).toHaveLength(1);
    expect(await history(bookingId)).toEqual([stored]);

    // The provider reads it: the customer hears so, as on the native inbox.
    expect(await provider.client.emitWithAck("mark-read", { bookingId, seq: 1 })).toBeNull();
    expect(await customer.client.next("messages-read")).toEqual({ bookingId, readerId: provider.id, seq: 1 });
    expect((await history(bookingId))[0]?.isRead).toBe(true);
  });
});

describe("reconnecting", () => {
  it("reconnects with auth and, joining again from the last seq it saw, gets what it missed", async () => {
    const customer = await user("customer", "nora");
    const provider = await user("service_provider", "omar");
    const { bookingId, customerToken, providerToken } = await activeBooking(customer, provider);
    await provider.client.emitWithAck("join-booking", { bookingId, chatToken: providerToken });

    // The app's own connection, with the options it already had and auto-reconnect on.
    let handshakes = 0;
    const app = new SeedClient(
      base,
      (cb) => {
        handshakes++;
        cb({ token: customer.jwt });
      },
      true,
    );
    open.push(app);
    await app.connected();
    await app.emitWithAck("join-booking", { bookingId, chatToken: customerToken });
    await provider.client.emitWithAck("booking-chat", {
      bookingId,
      chatToken: providerToken,
      message: "One",
    });
    await app.next("booking-chat", (m) => m.seq === 1);

    // The network drops (the transport closes under the client); it reconnects on its own.
    const reconnected = new Promise((resolve) => app.socket.io.once("reconnect", resolve));
    app.socket.io.engine.close();
    await provider.client.emitWithAck("booking-chat", {
      bookingId,
      chatToken: providerToken,
      message: "Two",
    });
    await reconnected;
    await app.connected();
    expect(handshakes).toBe(2);

    const rejoined = await app.emitWithAck("join-booking", {
      bookingId,
      chatToken: customerToken,
      sinceSeq: 1,
    });
    expect(rejoined).toMatchObject({ lastSeq: 2 });
    expect(await app.next("booking-chat", (m) => m.seq === 2)).toMatchObject({ content: "Two" });
    await provider.client.emitWithAck("booking-chat", {
      bookingId,
      chatToken: providerToken,
      message: "Three",
    });
    await app.next("booking-chat", (m) => m.seq === 3);
    expect(app.all("booking-chat").map((m) => m.seq)).toEqual([1, 2, 3]);
  });

  it("keeps a connection's joins and its user when the hub and the room are evicted", async () => {
    const customer = await user("customer", "pia");
    const provider = await user("service_provider", "quinn");
    const { bookingId, customerToken, providerToken } = await activeBooking(customer, provider);
    await customer.client.emitWithAck("join-booking", { bookingId, chatToken: customerToken });
    await provider.client.emitWithAck("join-booking", { bookingId, chatToken: providerToken });

    let evicted = 0;
    for (let hub = 0; hub < 4; hub++) if (await service.evict("SocketIoHub", `hub-${hub}`)) evicted++;
    expect(evicted).toBeGreaterThan(0);
    expect(await service.evict("BookingRoom", bookingId)).toBe(true);

    const stored = await customer.client.emitWithAck("booking-chat", {
      bookingId,
      chatToken: customerToken,
      message: "Still there?",
    });
    expect(stored).toMatchObject({ seq: 1, senderId: customer.id });
    expect(await provider.client.next("booking-chat")).toMatchObject({ seq: 1, content: "Still there?" });
  });
});

describe("admins", () => {
  it("can watch every booking's messages and changes without joining, as the native admin feed", async () => {
    const admin = await user("admin", "watcher");
    const customer = await user("customer", "rosa");
    const provider = await user("service_provider", "sam");

    expect(await customer.client.emitWithAck("watch-feed", {})).toMatchObject({
      error: { code: "not_authorized" },
    });
    expect(await admin.client.emitWithAck("watch-feed", {})).toEqual({ shards: 4 });

    const { bookingId, customerToken } = await activeBooking(customer, provider);
    await customer.client.emitWithAck("join-booking", { bookingId, chatToken: customerToken });
    await customer.client.emitWithAck("booking-chat", {
      bookingId,
      chatToken: customerToken,
      message: "Hello",
    });
    expect(await admin.client.next("booking-chat", (m) => m.bookingId === bookingId)).toMatchObject({
      content: "Hello",
      senderRole: "customer",
    });
    const accepted = await admin.client.next(
      "booking-updated",
      (u) => u.booking.id === bookingId && u.action === "accepted",
    );
    expect(JSON.stringify(accepted)).not.toContain(customerToken);
  });
});

describe("transports", () => {
  it('refuses long-polling with an error that says to pass transports: ["websocket"]', async () => {
    const res = await fetch(`${base}/socket.io/?EIO=4&transport=polling`);
    expect(res.status).toBe(400);
    const error = z.object({ code: z.number(), message: z.string() }).parse(await res.json());
    expect(error.message).toContain('transports: ["websocket"]');
  });

  it("closes a connection whose JWT expired, at its next event or delivery, as native sockets", async () => {
    const customer = await user("customer", "tess");
    const provider = await user("service_provider", "uma");
    const { bookingId, customerToken, providerToken } = await activeBooking(customer, provider);
    const briefCustomer = await SeedClient.connect(base, await userJwt("customer", customer.id, "2s"));
    const briefProvider = await SeedClient.connect(
      base,
      await userJwt("service_provider", provider.id, "2s"),
    );
    open.push(briefCustomer, briefProvider);
    await briefCustomer.emitWithAck("join-booking", { bookingId, chatToken: customerToken });
    await briefProvider.emitWithAck("join-booking", { bookingId, chatToken: providerToken });
    await provider.client.emitWithAck("join-booking", { bookingId, chatToken: providerToken });
    await settle(2_500);
    const disconnected = (client: SeedClient) =>
      new Promise((resolve) => client.socket.once("disconnect", resolve));

    // An event from an expired connection is not handled.
    const providerGone = disconnected(briefProvider);
    briefProvider.socket.emit("booking-chat", { bookingId, chatToken: providerToken, message: "Late" });
    expect(await providerGone).toBe("io server disconnect");
    expect(await history(bookingId)).toEqual([]);

    // A message for an expired connection is not sent to it.
    const customerGone = disconnected(briefCustomer);
    await provider.client.emitWithAck("booking-chat", {
      bookingId,
      chatToken: providerToken,
      message: "On time",
    });
    expect(await customerGone).toBe("io server disconnect");
    expect(briefCustomer.all("booking-chat")).toEqual([]);
    expect((await history(bookingId)).map((m) => m.content)).toEqual(["On time"]);
  });
});
