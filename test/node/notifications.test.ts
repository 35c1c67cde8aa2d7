import { createHmac } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminFlagsResponse, BookingResponse, Notification } from "../../src/protocol";
import { activeChat, call, runningService, type Service, settle, userJwt } from "./service";

// The service with the notification webhook pointed at a receiver in this process, a short
// coalescing window, and the contact guard flagging (not masking).

const SECRET = "notify-webhook-test-secret-0123456789";
const COALESCE_SECONDS = 2;

type Received = { at: number; signature: string; raw: string; body: Notification; status: number };

/** A local webhook receiver: records every call, and answers 500 to the next `failNext` calls. */
class Receiver {
  readonly calls: Received[] = [];
  failNext = 0;
  private server: Server | null = null;

  async start(): Promise<string> {
    const server = createServer((req, res) => {
      let raw = "";
      req.on("data", (chunk) => {
        raw += chunk;
      });
      req.on("end", () => {
        const status = this.failNext > 0 ? 500 : 200;
        if (this.failNext > 0) this.failNext--;
        const signature = String(req.headers["x-signature"] ?? "");
        this.calls.push({
          at: Date.now(),
          signature,
          raw,
          body: Notification.parse(JSON.parse(raw)),
          status,
        });
        res.writeHead(status).end();
      });
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  }

  /** The calls about `userId`'s booking `bookingId` of `type`. */
  about(userId: string, bookingId: string, type?: "message" | "event"): Received[] {
    return this.calls.filter(
      (c) => c.body.userId === userId && c.body.bookingId === bookingId && (!type || c.body.type === type),
    );
  }

  stop(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

function validSignature(call: Received): boolean {
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(call.signature);
  if (!match) return false;
  const expected = createHmac("sha256", SECRET).update(`${match[1]}.${call.raw}`).digest("hex");
  return expected === match[2] && Math.abs(Number(match[1]) - Date.now() / 1000) < 60;
}

let service: Service;
const receiver = new Receiver();

beforeAll(async () => {
  const url = await receiver.start();
  service = await runningService({
    NOTIFY_WEBHOOK_URL: url,
    NOTIFY_WEBHOOK_SECRET: SECRET,
    NOTIFY_COALESCE_SECONDS: String(COALESCE_SECONDS),
    CONTACT_POLICY: "flag",
  });
});

afterAll(async () => {
  await service?.stop();
  await receiver.stop();
});

type Chat = Awaited<ReturnType<typeof activeChat>>;

/** A party's booking socket, joined. */
async function joinedSocket(
  chat: Chat,
  as: "customer" | "provider",
): Promise<WebSocket & { heard: string[] }> {
  const url = `${service.base.replace("http", "ws")}/bookings/${chat.bookingId}/ws`;
  const jwt = as === "customer" ? chat.customer : chat.provider;
  const ws = Object.assign(new WebSocket(url, ["spana-chat.v1", `bearer.${jwt}`]), { heard: [] as string[] });
  ws.addEventListener("message", (e) => ws.heard.push(String(e.data)));
  await new Promise((resolve) => ws.addEventListener("open", resolve, { once: true }));
  const chatToken = as === "customer" ? chat.customerToken : chat.providerToken;
  ws.send(JSON.stringify({ event: "join-booking", data: { bookingId: chat.bookingId, chatToken } }));
  await expect.poll(() => ws.heard.some((f) => f.includes('"booking-joined"'))).toBe(true);
  return ws;
}

function say(ws: WebSocket, chat: Chat, as: "customer" | "provider", message: string): void {
  const chatToken = as === "customer" ? chat.customerToken : chat.providerToken;
  ws.send(JSON.stringify({ event: "booking-chat", data: { bookingId: chat.bookingId, chatToken, message } }));
}

describe("notifications to closed apps", () => {
  it("tells an offline party what happened, signed, at most once per window, the rest folded in", async () => {
    const chat = await activeChat(service.base);
    // Both were offline while the booking was paid and accepted: each hears the newest event.
    await expect.poll(() => receiver.about(chat.providerId, chat.bookingId, "event").length).toBe(1);
    await expect
      .poll(() => receiver.about(chat.customerId, chat.bookingId, "event").length)
      .toBeGreaterThan(0);
    expect(receiver.about(chat.providerId, chat.bookingId, "event")[0]?.body).toMatchObject({
      type: "event",
      role: "provider",
      event: "chatroom-ready",
      unread: 0,
    });

    const customer = await joinedSocket(chat, "customer");
    const customerConnectedAt = Date.now();
    say(customer, chat, "customer", "Is 9am ok?");
    await expect
      .poll(() => receiver.about(chat.providerId, chat.bookingId, "message").length, { timeout: 8_000 })
      .toBe(1);
    say(customer, chat, "customer", "I can also do 10");
    say(customer, chat, "customer", `Or after lunch ${"and so on, ".repeat(20)}`);
    await expect
      .poll(() => receiver.about(chat.providerId, chat.bookingId, "message").length, { timeout: 8_000 })
      .toBe(2);
    const [first, second] = receiver.about(chat.providerId, chat.bookingId, "message");
    expect(first?.body).toMatchObject({
      userId: chat.providerId,
      role: "provider",
      preview: "Is 9am ok?",
      unread: 1,
    });
    expect(second?.body.unread).toBe(3);
    expect(second?.body.preview).toHaveLength(100);
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(COALESCE_SECONDS * 1000 - 100);
    expect(first?.body.id).not.toBe(second?.body.id);
    for (const c of receiver.calls) expect(validSignature(c)).toBe(true);
    // The customer, connected since, was never told about anything.
    const since = receiver
      .about(chat.customerId, chat.bookingId)
      .filter((c) => c.at > customerConnectedAt + 200);
    expect(since).toEqual([]);
    customer.close();
  });

  it("sends nothing while the recipient is connected: on the booking or on their inbox", async () => {
    const chat = await activeChat(service.base);
    await expect.poll(() => receiver.about(chat.providerId, chat.bookingId).length).toBe(1);
    const customer = await joinedSocket(chat, "customer");
    const provider = await joinedSocket(chat, "provider");
    say(customer, chat, "customer", "on my way");
    say(provider, chat, "provider", "see you");
    await expect.poll(() => provider.heard.filter((f) => f.includes("on my way")).length).toBe(1);
    provider.close();
    // The app is open on the chat list (the inbox socket), not on this chat.
    const inbox = new WebSocket(`${service.base.replace("http", "ws")}/me/ws`, [
      "spana-chat.v1",
      `bearer.${chat.provider}`,
    ]);
    await new Promise((resolve) => inbox.addEventListener("open", resolve, { once: true }));
    await settle(300);
    say(customer, chat, "customer", "are you there?");
    await settle(COALESCE_SECONDS * 1000 + 1000);
    expect(receiver.about(chat.providerId, chat.bookingId, "message")).toEqual([]);
    expect(receiver.about(chat.customerId, chat.bookingId, "message")).toEqual([]);
    inbox.close();
    customer.close();
  });

  it("tells what came in the quiet window when it ends, under a new id, counting it all", async () => {
    const chat = await activeChat(service.base);
    await expect.poll(() => receiver.about(chat.providerId, chat.bookingId).length).toBe(1);
    // The lifecycle's alarm has recorded every position, and the quiet window has passed.
    await settle(COALESCE_SECONDS * 1000 + 1000);
    const customer = await joinedSocket(chat, "customer");
    say(customer, chat, "customer", "first");
    await expect.poll(() => receiver.about(chat.providerId, chat.bookingId, "message").length).toBe(1);
    // Within the quiet window: told when it ends, by the room's alarm.
    say(customer, chat, "customer", "second");
    await expect
      .poll(() => receiver.about(chat.providerId, chat.bookingId, "message").length, { timeout: 8_000 })
      .toBe(2);
    const [first, second] = receiver.about(chat.providerId, chat.bookingId, "message");
    expect(second?.body.id).not.toBe(first?.body.id);
    expect(second?.body).toMatchObject({ preview: "second", unread: 2 });
    customer.close();
  });

  it("retries a failed call with backoff, with the same id, until the receiver takes it", async () => {
    const chat = await activeChat(service.base);
    await expect.poll(() => receiver.about(chat.providerId, chat.bookingId).length).toBe(1);
    await settle(COALESCE_SECONDS * 1000);
    const customer = await joinedSocket(chat, "customer");
    receiver.failNext = 2;
    say(customer, chat, "customer", "hello?");
    await expect
      .poll(() => receiver.about(chat.providerId, chat.bookingId, "message").map((c) => c.status), {
        timeout: 15_000,
      })
      .toEqual([500, 500, 200]);
    const ids = new Set(receiver.about(chat.providerId, chat.bookingId, "message").map((c) => c.body.id));
    expect(ids.size).toBe(1);
    customer.close();
  });
});

describe("the contact guard, flagging", () => {
  it("delivers contact details unchanged and lists the message for admins", async () => {
    const chat = await activeChat(service.base);
    const customer = await joinedSocket(chat, "customer");
    const provider = await joinedSocket(chat, "provider");
    say(customer, chat, "customer", "text me on +44 20 7946 0958");
    await expect.poll(() => provider.heard.find((f) => f.includes("7946"))).toBeDefined();
    expect(provider.heard.find((f) => f.includes("7946"))).not.toContain('"masked"');
    const admin = await userJwt("admin", "moderator");
    // The flag reaches D1 with the copy of the message: a lifecycle change brings the copy forward.
    await call(service.base, "POST", `/bookings/${chat.bookingId}/chat/freeze`, admin, {
      status: 200,
      schema: BookingResponse,
      body: { reason: "copy now" },
    });
    await expect
      .poll(
        async () =>
          (
            await call(service.base, "GET", `/chat/admin/flags?bookingId=${chat.bookingId}`, admin, {
              status: 200,
              schema: AdminFlagsResponse,
            })
          ).flags,
        { timeout: 8_000 },
      )
      .toEqual([
        expect.objectContaining({ kind: "contact", seq: 1, reason: "phone", senderId: chat.customerId }),
      ]);
    customer.close();
    provider.close();
  });
});
