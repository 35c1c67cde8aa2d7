import { env } from "cloudflare:workers";
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { api } from "./helpers/api";
import { activeChat, createBooking, parties } from "./helpers/flow";
import { joined } from "./helpers/socket";
import { RawSocketIo } from "./helpers/socket-io";
import { newAdmin, newCustomer, newProvider, type TestUser } from "./helpers/users";

// The Socket.IO hub against what the real client never sends: a second login on one connection,
// joins back to back, other namespaces, huge ack ids and frames, floods before and after login.

const BUDGET_BURST = Number(env.FRAME_BURST_PER_SOCKET);
const CONNECT_TIMEOUT_MS = Number(env.SOCKET_IO_CONNECT_TIMEOUT_MS);
const MAX_SOCKETS = Number(env.MAX_SOCKETS_PER_USER);

async function auditEntries(admin: TestUser): Promise<{ action: string; adminId: string; target: string }[]> {
  const res = await api("GET", `/chat/admin/audit?adminId=${admin.id}`, { jwt: admin.jwt });
  expect(res.status, res.text).toBe(200);
  return (res.body as { entries: { action: string; adminId: string; target: string }[] }).entries;
}

describe("the Socket.IO hub keeps identity and audit straight", () => {
  it("records watch-feed in the admin audit trail before the feed is granted", async () => {
    const admin = await newAdmin();
    const sio = await RawSocketIo.connect(admin.jwt);
    const ack = await sio.emitWithAck("watch-feed", {}, 1);
    expect(ack).toMatchObject({ shards: Number(env.ADMIN_FEED_SHARDS) });
    const entries = await auditEntries(admin);
    expect(entries.filter((e) => e.action === "feed.watch")).toHaveLength(1);
    sio.close();
  });

  it("keeps delivering to a connection on a hub past SOCKET_IO_HUBS: the count can shrink or grow under live users", async () => {
    // A connection that landed on hub 9 when there were more hubs than the 4 configured now.
    const chat = await activeChat();
    const sio = await RawSocketIo.connect(chat.customer.jwt, 9);
    const ack = await sio.emitWithAck(
      "join-booking",
      { bookingId: chat.bookingId, chatToken: chat.customerToken },
      1,
    );
    expect(ack).toMatchObject({ bookingId: chat.bookingId, role: "customer" });
    const provider = await joined(chat.bookingId, chat.provider, chat.providerToken);
    provider.send("booking-chat", {
      bookingId: chat.bookingId,
      chatToken: chat.providerToken,
      message: "still here",
    });
    await provider.expect("booking-chat");
    expect(await sio.next((p) => p.startsWith('42["booking-chat"'))).toContain('"content":"still here"');
    // And what it sends reaches the room.
    sio.emit("booking-chat", {
      bookingId: chat.bookingId,
      chatToken: chat.customerToken,
      message: "from hub 9",
    });
    expect(await provider.expect("booking-chat")).toMatchObject({ content: "from hub 9" });
    provider.close();
    sio.close();
  });

  it("tells an admin who sends over Socket.IO without a token not_authorized, as the native socket does", async () => {
    const chat = await activeChat();
    const sio = await RawSocketIo.connect(chat.admin.jwt);
    await sio.emitWithAck("join-booking", { bookingId: chat.bookingId }, 1);
    const answer = await sio.emitWithAck("booking-chat", { bookingId: chat.bookingId, message: "hi" }, 2);
    expect(answer).toMatchObject({ error: { code: "not_authorized" } });
    sio.close();
  });

  it("refuses a second CONNECT on a logged-in connection: joins never pass to another user", async () => {
    const chat = await activeChat();
    const stranger = await newCustomer();
    const sio = await RawSocketIo.connect(chat.customer.jwt);
    const joinedAck = await sio.emitWithAck(
      "join-booking",
      { bookingId: chat.bookingId, chatToken: chat.customerToken },
      1,
    );
    expect(joinedAck).toMatchObject({ bookingId: chat.bookingId, role: "customer" });
    const answer = await sio.login(stranger.jwt);
    expect(answer.startsWith("44")).toBe(true);
    expect(answer).toContain("Already connected");
    // The connection is still the customer's: a read mark is the customer's own.
    const read = await sio.emitWithAck("mark-read", { bookingId: chat.bookingId, seq: 0 }, 2);
    expect(read).toMatchObject({ error: { code: "invalid_payload" } });
    const provider = await joined(chat.bookingId, chat.provider, chat.providerToken);
    provider.send("booking-chat", {
      bookingId: chat.bookingId,
      chatToken: chat.providerToken,
      message: "hi",
    });
    await provider.expect("booking-chat");
    const heard = await sio.next((p) => p.startsWith('42["booking-chat"'));
    expect(heard).toContain('"content":"hi"');
    provider.close();
    sio.close();
  });

  it("holds the cap on joined bookings even when joins arrive back to back", async () => {
    const admin = await newAdmin();
    const customers = await Promise.all(Array.from({ length: 6 }, () => newCustomer()));
    const providers = await Promise.all(Array.from({ length: 3 }, () => newProvider()));
    const bookingIds: string[] = [];
    for (let i = 0; i < 56; i++) {
      const customer = customers[i % customers.length] as TestUser;
      const provider = providers[i % providers.length] as TestUser;
      bookingIds.push((await createBooking({ customer, provider, admin })).id);
    }
    const sio = await RawSocketIo.connect(admin.jwt);
    // Every join at once, before the first is answered.
    for (const [i, bookingId] of bookingIds.entries()) sio.emit("join-booking", { bookingId }, i + 1);
    await sio.until(
      (packets) => packets.filter((p) => p.startsWith("43")).length >= bookingIds.length,
      15_000,
    );
    const acks = bookingIds.map((_, i) => sio.ack(i + 1) as { error?: { message: string } });
    const refused = acks.filter((a) => a?.error);
    expect(acks.length - refused.length).toBe(50);
    expect(refused[0]?.error?.message).toContain("At most 50 bookings");
    sio.close();
  });

  it("refuses events on a namespace other than /", async () => {
    const chat = await activeChat();
    const sio = await RawSocketIo.connect(chat.customer.jwt);
    sio.send(
      `42/admin,7${JSON.stringify(["join-booking", { bookingId: chat.bookingId, chatToken: chat.customerToken }])}`,
    );
    const ack = await sio.next((p) => p.startsWith("43"));
    expect(ack).toContain("invalid_payload");
    expect(ack).toContain("namespace");
    expect(sio.events("booking-joined")).toEqual([]);
    sio.close();
  });

  it("refuses ack ids that would not come back as sent, and frames over MAX_FRAME_BYTES in UTF-8", async () => {
    const chat = await activeChat();
    const sio = await RawSocketIo.connect(chat.customer.jwt);
    sio.send(`42${"4".repeat(24)}${JSON.stringify(["join-booking", { bookingId: chat.bookingId }])}`);
    const refusal = await sio.next((p) => p.startsWith('42["chat-error"'));
    expect(refusal).toContain("ack ids");
    expect(sio.packets.some((p) => p.includes("e+"))).toBe(false);
    // 30,000 euro signs: 30,000 UTF-16 units, 90,000 UTF-8 bytes.
    sio.emit("booking-chat", {
      bookingId: chat.bookingId,
      chatToken: chat.customerToken,
      message: "€".repeat(30_000),
    });
    const tooLarge = await sio.next((p) => p.startsWith('42["chat-error"'));
    expect(tooLarge).toContain("too large");
    sio.close();
  });

  it("echoes a namespace it refuses only briefly", async () => {
    const user = await newCustomer();
    const sio = await RawSocketIo.open();
    const nsp = `/${"x".repeat(5_000)}`;
    sio.send(`40${nsp},${JSON.stringify({ token: user.jwt })}`);
    const refusal = await sio.next((p) => p.startsWith("44"));
    expect(refusal.length).toBeLessThan(300);
    sio.close();
  });

  it("caps one user's connections across every hub, not per hub", async () => {
    const user = await newCustomer();
    const answers: string[] = [];
    const sockets: RawSocketIo[] = [];
    for (let i = 0; i < MAX_SOCKETS * 2; i++) {
      const sio = await RawSocketIo.open();
      sockets.push(sio);
      answers.push(await sio.login(user.jwt));
    }
    expect(answers.filter((a) => a.startsWith("40"))).toHaveLength(MAX_SOCKETS);
    expect(answers.filter((a) => a.startsWith("44")).every((a) => a.includes("Too many connections"))).toBe(
      true,
    );
    // One closes: one more may log in.
    const first = sockets.findIndex((_, i) => answers[i]?.startsWith("40"));
    sockets[first]?.close();
    await sockets[first]?.whenClosed();
    const again = await RawSocketIo.open();
    sockets.push(again);
    await expect.poll(async () => (await again.login(user.jwt)).slice(0, 2), { timeout: 5_000 }).toBe("40");
    for (const sio of sockets) sio.close();
  });
});

describe("no Socket.IO connection can flood its hub", () => {
  it("closes a connection that never logs in after a handful of frames, without answering them all", async () => {
    const sio = await RawSocketIo.open();
    for (let i = 0; i < 500; i++) sio.send("2");
    const closed = await sio.whenClosed();
    expect(closed.code).toBe(4429);
    expect(sio.packets.filter((p) => p === "3").length).toBeLessThanOrEqual(10);
  });

  it("closes a connection that does not log in within the connect timeout", async () => {
    const sio = await RawSocketIo.open();
    const closed = await sio.whenClosed(CONNECT_TIMEOUT_MS + 5_000);
    expect(closed.reason).toBe("connect timeout");
  });

  it("drops, then closes, a logged-in connection that floods, while another keeps chatting", async () => {
    const chat = await activeChat();
    const flooder = await RawSocketIo.connect(chat.customer.jwt);
    const good = await RawSocketIo.connect(chat.provider.jwt);
    await good.emitWithAck("join-booking", { bookingId: chat.bookingId, chatToken: chat.providerToken }, 1);
    for (let i = 0; i < BUDGET_BURST * 4; i++) flooder.emit("nonsense", {});
    const closed = await flooder.whenClosed(10_000).catch((e) => {
      throw new Error(`${e}: ${flooder.packets.length} packets heard`);
    });
    expect(closed.code).toBe(4429);
    const errors = flooder.packets.filter((p) => p.startsWith('42["chat-error"')).length;
    expect(errors).toBeLessThan(BUDGET_BURST * 2);
    const sent = await good.emitWithAck(
      "booking-chat",
      { bookingId: chat.bookingId, chatToken: chat.providerToken, message: "still here" },
      2,
    );
    expect(sent).toMatchObject({ content: "still here" });
    good.close();
  });

  it("closes a connection whose frame is not valid UTF-8 with 1007", async () => {
    const user = await newCustomer();
    const sio = await RawSocketIo.connect(user.jwt);
    sio.send(`42${JSON.stringify(["booking-chat", { message: "a\uFFFDb" }])}`);
    expect((await sio.whenClosed()).code).toBe(1007);
  });
});

describe("Socket.IO logins", () => {
  it("refuses a JWT issued a year from now", async () => {
    const p = await parties();
    const jwt = await new SignJWT({ role: "customer" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(p.customer.id)
      .setIssuedAt(Math.floor(Date.now() / 1000) + 365 * 86_400)
      .setExpirationTime("2y")
      .sign(new TextEncoder().encode(env.JWT_SECRET));
    const sio = await RawSocketIo.open();
    expect((await sio.login(jwt)).startsWith("44")).toBe(true);
    sio.close();
  });
});
