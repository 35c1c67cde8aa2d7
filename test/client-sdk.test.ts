import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { decodeJwt } from "jose";
import { describe, expect, it, vi } from "vitest";
import { type ChatClientError, createChatClient, type OpenSocket } from "../sdk/src";
import { type Message, REPLAY_LIMIT } from "../src/protocol";
import { bookingRoom } from "../src/rooms";
import { BASE_URL } from "./helpers/api";
import { PNG } from "./helpers/files";
import { activeChat } from "./helpers/flow";
import { signUserJwt, type TestUser } from "./helpers/users";

/** The SDK's socket, opened against the real Worker in this runtime. */
const openViaWorker: OpenSocket = async (url, protocols) => {
  const response = await exports.default.fetch(url.replace(/^ws/, "http"), {
    headers: { Upgrade: "websocket", "Sec-WebSocket-Protocol": protocols.join(", ") },
  });
  const ws = response.webSocket;
  if (!ws) throw new Error(`upgrade refused: ${response.status}`);
  ws.accept();
  return ws;
};

function clientFor(user: TestUser, getToken: () => Promise<string> | string = () => user.jwt) {
  return createChatClient({
    baseUrl: BASE_URL,
    getToken,
    fetch: (input, init) => exports.default.fetch(input, init),
    openSocket: openViaWorker,
  });
}

/** Collects what the app sees, in the order it sees it. */
function appView(chat: ReturnType<ReturnType<typeof clientFor>["booking"]>) {
  const seen: Message[] = [];
  chat.on("booking-chat", (m) => seen.push(m));
  return seen;
}

describe("the client SDK against the real service", () => {
  it("tells the app its connection's status, for a reconnecting line and what is waiting to be sent", async () => {
    const s = await activeChat();
    const customer = clientFor(s.customer).booking(s.bookingId);
    const statuses: string[] = [];
    customer.on("status", (status) => statuses.push(status));
    expect(customer.status).toBe("idle");
    await customer.connect();
    expect(customer.status).toBe("open");
    await evictDurableObject(bookingRoom(env, s.bookingId), { webSockets: "close" });
    await vi.waitUntil(() => statuses.includes("offline"));
    const queued = customer.send("written while away");
    expect(customer.waiting).toBeGreaterThanOrEqual(1);
    await queued;
    expect(customer.waiting).toBe(0);
    await vi.waitUntil(() => customer.status === "open", { timeout: 10_000 });
    expect(statuses.slice(0, 2)).toEqual(["connecting", "open"]);
    expect(statuses.slice(2)).toContain("offline");
    customer.close();
    expect(statuses.at(-1)).toBe("stopped");

    const inbox = clientFor(s.customer).inbox();
    const inboxStatuses: string[] = [];
    inbox.on("status", (status) => inboxStatuses.push(status));
    await inbox.connect();
    expect(inbox.status).toBe("open");
    inbox.close();
    expect(inboxStatuses).toEqual(["connecting", "open", "stopped"]);
  });

  it("loses and duplicates nothing when the server drops the socket mid-conversation", async () => {
    const s = await activeChat();
    const customer = clientFor(s.customer).booking(s.bookingId);
    const provider = clientFor(s.provider).booking(s.bookingId);
    const customerSees = appView(customer);
    await customer.connect();
    await provider.connect();

    for (let i = 1; i <= 5; i++) await provider.send(`before ${i}`);
    await vi.waitUntil(() => customerSees.length === 5);
    await evictDurableObject(bookingRoom(env, s.bookingId), { webSockets: "close" });
    // The provider keeps talking while the customer is away (its own client reconnects too).
    const during = Array.from({ length: 5 }, (_, i) => provider.send(`during ${i + 1}`));
    await Promise.all(during);

    await vi.waitUntil(() => customerSees.length === 10, { timeout: 10_000 });
    expect(customerSees.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(customerSees.map((m) => m.content).slice(5)).toEqual([
      "during 1",
      "during 2",
      "during 3",
      "during 4",
      "during 5",
    ]);
    customer.close();
    provider.close();
  });

  it("catches up a backlog longer than one replay page, page by page, each message once", async () => {
    const s = await activeChat();
    const total = REPLAY_LIMIT * 2 + 30;
    await runInDurableObject(bookingRoom(env, s.bookingId), (_, state) => {
      for (let seq = 1; seq <= total; seq++) {
        state.storage.sql.exec(
          "INSERT INTO messages (seq, id, sender_id, sender_role, content, created_at) VALUES (?, ?, ?, 'provider', ?, ?)",
          seq,
          crypto.randomUUID(),
          s.provider.id,
          `m${seq}`,
          new Date().toISOString(),
        );
      }
    });
    await evictDurableObject(bookingRoom(env, s.bookingId));
    const customer = clientFor(s.customer).booking(s.bookingId, { sinceSeq: 0 });
    const seen = appView(customer);
    await customer.connect();
    await vi.waitUntil(() => seen.length === total, { timeout: 10_000 });
    expect(seen.map((m) => m.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    customer.close();
  });

  it("sends what was written offline once, in order, after reconnecting", async () => {
    const s = await activeChat();
    const customer = clientFor(s.customer).booking(s.bookingId);
    await customer.connect();
    await customer.send("online");
    customer.simulateDisconnect();
    const offline = ["one", "two", "three"].map((text) => customer.send(text));
    const stored = await Promise.all(offline);
    expect(stored.map((m) => [m.seq, m.content])).toEqual([
      [2, "one"],
      [3, "two"],
      [4, "three"],
    ]);
    const history = await customer.history();
    expect(history.messages.map((m) => m.content)).toEqual(["online", "one", "two", "three"]);
    customer.close();
  });

  it("asks getToken again when its JWT expires, and carries on", async () => {
    const s = await activeChat();
    const shortLived = await signUserJwt(s.customer.id, "customer", { expiresIn: "2s" });
    let calls = 0;
    const getToken = () => {
      calls++;
      return calls === 1 ? shortLived : s.customer.jwt;
    };
    const customer = createChatClient({
      baseUrl: BASE_URL,
      getToken,
      fetch: (input, init) => exports.default.fetch(input, init),
      openSocket: openViaWorker,
    }).booking(s.bookingId, { chatToken: s.customerToken });
    await customer.connect();
    expect(calls).toBe(1);
    const expiresAt = (decodeJwt(shortLived).exp ?? 0) * 1000;
    await vi.waitUntil(() => Date.now() > expiresAt, { timeout: 5_000, interval: 100 });
    // The server closes the expired socket with 4401; the client reconnects with a fresh token.
    const message = await customer.send("still here");
    expect(message.content).toBe("still here");
    expect(calls).toBeGreaterThanOrEqual(2);
    customer.close();
  });

  it("stops for good when the chat is terminated, and rejects later sends", async () => {
    const s = await activeChat();
    const client = clientFor(s.customer);
    const customer = client.booking(s.bookingId);
    await customer.connect();
    const terminated = new Promise((resolve) => customer.on("chat-terminated", resolve));
    await clientFor(s.provider).request("POST", `/bookings/${s.bookingId}/complete`);
    expect(await terminated).toMatchObject({ reason: "completed" });
    await expect(customer.send("too late")).rejects.toMatchObject({
      code: "chat_terminated",
    } satisfies Partial<ChatClientError>);
    customer.close();
  });

  it("learns on its rejoin that the chat ended while it was away: what waits is refused, and it stops", async () => {
    const s = await activeChat();
    let gate: Promise<void> | null = null;
    let openGate = () => {};
    const customer = clientFor(s.customer, async () => {
      await gate;
      return s.customer.jwt;
    }).booking(s.bookingId);
    await customer.connect();
    gate = new Promise((resolve) => {
      openGate = resolve;
    });
    const errors: string[] = [];
    customer.on("chat-error", ({ code }) => errors.push(code));
    await evictDurableObject(bookingRoom(env, s.bookingId), { webSockets: "close" });
    await vi.waitUntil(() => customer.status === "connecting");
    // Completed while the customer cannot reconnect: its chat-terminated goes to nobody.
    await clientFor(s.provider).request("POST", `/bookings/${s.bookingId}/complete`);
    const waiting = customer.send("written while away");
    openGate();
    await expect(waiting).rejects.toMatchObject({ code: "chat_terminated" });
    expect(errors).toEqual(["chat_terminated"]);
    expect(customer.status).toBe("stopped");
    expect(customer.waiting).toBe(0);
  });

  it("rejects a send with its chat-error", async () => {
    const s = await activeChat();
    const customer = clientFor(s.customer).booking(s.bookingId);
    await customer.connect();
    await expect(customer.send("   ")).rejects.toMatchObject({ code: "message_empty" });
    customer.close();
  });

  it("starts every feed the same way: nothing connects before connect(), which resolves once open", async () => {
    const s = await activeChat();
    const chat = clientFor(s.customer).booking(s.bookingId);
    const inbox = clientFor(s.customer).inbox();
    const feed = clientFor(s.admin).adminFeed();
    const heard: string[] = [];
    inbox.on("booking-chat-notification", (n) => heard.push(`inbox ${n.seq}`));
    feed.on("booking-chat", (m) => heard.push(`feed ${m.seq}`));
    const provider = clientFor(s.provider).booking(s.bookingId);
    await provider.connect();
    await provider.send("before anyone listens");
    expect([chat.status, inbox.status, feed.status]).toEqual(["idle", "idle", "idle"]);
    await Promise.all([chat.connect(), inbox.connect(), feed.connect()]);
    expect([chat.status, inbox.status, feed.status]).toEqual(["open", "open", "open"]);
    await provider.send("after connect");
    await vi.waitUntil(() => heard.length === 2);
    expect(heard.sort()).toEqual(["feed 2", "inbox 2"]);
    for (const each of [chat, inbox, feed, provider]) each.close();
    expect(feed.status).toBe("stopped");
    await feed.connect();
    expect(feed.status).toBe("open");
    feed.close();

    // Closed while it connects (a screen left at once): its connect() says so instead of hanging.
    const leftAtOnce = clientFor(s.customer).inbox();
    const connecting = leftAtOnce.connect();
    leftAtOnce.close();
    await expect(connecting).rejects.toThrow("closed before it opened");
    // ...and connects when asked again.
    await leftAtOnce.connect();
    expect(leftAtOnce.status).toBe("open");
    leftAtOnce.close();
  });

  it("refuses the admin feed to a party: connect() rejects with the service's code", async () => {
    const s = await activeChat();
    const feed = clientFor(s.customer).adminFeed();
    await expect(feed.connect()).rejects.toMatchObject({ code: "forbidden" });
    expect(feed.status).toBe("stopped");
  });

  it("reads history with the chat token as a parameter", async () => {
    const s = await activeChat();
    const client = clientFor(s.customer);
    const chat = client.booking(s.bookingId);
    await chat.connect();
    await chat.send("kept");
    chat.close();
    const page = await client.api.history({ params: { id: s.bookingId }, chatToken: s.customerToken });
    expect(page.messages.map((m) => m.content)).toEqual(["kept"]);
    await expect(
      client.api.history({ params: { id: s.bookingId }, chatToken: s.providerToken }),
    ).rejects.toMatchObject({ status: 403, code: "invalid_token" });
    // @ts-expect-error a route without X-Chat-Token takes no chat token
    await client.api.myChats({ chatToken: s.customerToken });
  });

  it("subscribes to the inbox and the admin feed", async () => {
    const s = await activeChat();
    const providerClient = clientFor(s.provider);
    const inbox = providerClient.inbox();
    const feed = clientFor(s.admin).adminFeed();
    const feedMessages: string[] = [];
    feed.on("support-chat", (m) => feedMessages.push(m.content));
    await Promise.all([inbox.connect(), feed.connect()]);
    const stored = await inbox.sendSupport("help please");
    expect(stored).toMatchObject({ senderRole: "provider", content: "help please" });
    const reply = await clientFor(s.admin).support.reply(s.provider.id, "on it");
    expect(reply.senderRole).toBe("admin");
    await vi.waitUntil(() => feedMessages.includes("on it"));
    inbox.close();
    feed.close();
  });
});

describe("typing and presence in the SDK", () => {
  it("shows who is online and who types, and sends typing only on a change", async () => {
    const s = await activeChat();
    const customer = clientFor(s.customer).booking(s.bookingId);
    const provider = clientFor(s.provider).booking(s.bookingId);
    const typing: { userId: string; isTyping: boolean }[] = [];
    provider.on("typing", ({ userId, isTyping }) => typing.push({ userId, isTyping }));
    await customer.connect();
    await provider.connect();
    await vi.waitUntil(() => customer.online.length === 2 && provider.online.length === 2);
    expect(provider.online.map((o) => o.role)).toEqual(["customer", "provider"]);
    customer.typing(true);
    customer.typing(true);
    customer.typing(true);
    await vi.waitUntil(() => typing.length === 1);
    customer.typing(false);
    await vi.waitUntil(() => typing.length === 2);
    expect(typing).toEqual([
      { userId: s.customer.id, isTyping: true },
      { userId: s.customer.id, isTyping: false },
    ]);
    customer.close();
    await vi.waitUntil(() => provider.online.length === 1);
    provider.close();
  });
});

describe("the client SDK's photos and moderation", () => {
  it("uploads a photo, sends it, downloads it on the other side; reports; an admin hides and freezes by typed calls", async () => {
    const s = await activeChat();
    const customer = clientFor(s.customer).booking(s.bookingId);
    const provider = clientFor(s.provider).booking(s.bookingId);
    const providerSees = appView(provider);
    const hidden: number[] = [];
    const frozen: boolean[] = [];
    provider.on("message-hidden", (e) => hidden.push(e.seq));
    provider.on("chat-frozen", (e) => frozen.push(e.frozen));
    await customer.connect();
    await provider.connect();

    const bytes = PNG();
    const attachment = await customer.upload(new Blob([bytes], { type: "image/png" }), { name: "sink.png" });
    expect(attachment).toMatchObject({ name: "sink.png", contentType: "image/png", size: bytes.length });
    const sent = await customer.send("", { attachments: [attachment.id] });
    expect(sent.attachments).toEqual([attachment]);
    await vi.waitUntil(() => providerSees.length === 1);
    const blob = await provider.attachment(attachment.id);
    expect(blob.type).toBe("image/png");
    expect(new Uint8Array(await blob.arrayBuffer())).toEqual(bytes);

    await provider.report(sent.seq, "not my sink");
    const admin = clientFor(s.admin);
    const { flags } = await admin.api.adminFlags({ query: { bookingId: s.bookingId } });
    expect(flags).toEqual([
      expect.objectContaining({ kind: "report", seq: sent.seq, reporterId: s.provider.id }),
    ]);
    const download = await admin.api.downloadAttachment({
      params: { id: s.bookingId, attachmentId: attachment.id },
    });
    expect(download.size).toBe(bytes.length);

    await admin.api.hideMessage({ params: { id: s.bookingId, seq: String(sent.seq) } });
    await admin.api.freezeChat({ params: { id: s.bookingId }, body: { reason: "checking" } });
    await vi.waitUntil(() => hidden.length === 1 && frozen.length === 1);
    expect(hidden).toEqual([sent.seq]);
    await expect(customer.send("still here?")).rejects.toMatchObject({ code: "chat_frozen" });
    await admin.api.unfreezeChat({ params: { id: s.bookingId }, body: { reason: "fine" } });
    await vi.waitUntil(() => frozen.length === 2);
    expect(frozen).toEqual([true, false]);
    customer.close();
    provider.close();
  });
});
