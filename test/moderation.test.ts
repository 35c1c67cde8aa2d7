import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { AdminFlagsResponse, HideResponse, HistoryResponse, MyChatsResponse } from "../src/protocol";
import { bookingRoom } from "../src/rooms";
import { api } from "./helpers/api";
import { d1Of, settleD1 } from "./helpers/d1";
import { download, PNG, upload, uploaded } from "./helpers/files";
import { type ActiveChat, activeChat } from "./helpers/flow";
import { inbox, joined, type TestSocket } from "./helpers/socket";
import { RawSocketIo } from "./helpers/socket-io";

// This file runs with CONTACT_POLICY=mask (vitest.config.ts): the other party reads contact
// details as [hidden]; the sender, admins and D1 keep what was written.

const WITH_PHONE = "Call me on +1 (555) 123-4567 tomorrow";
const MASKED = "Call me on [hidden] tomorrow";

async function history(chat: ActiveChat, as: "customer" | "provider" | "admin") {
  const headers: Record<string, string> =
    as === "admin" ? {} : { "X-Chat-Token": as === "customer" ? chat.customerToken : chat.providerToken };
  const res = await api("GET", `/chat/booking/${chat.bookingId}`, { jwt: chat[as].jwt, headers });
  expect(res.status, res.text).toBe(200);
  return HistoryResponse.parse(res.body).messages;
}

async function flags(chat: ActiveChat, kind?: "contact" | "report") {
  const query = `bookingId=${chat.bookingId}${kind ? `&kind=${kind}` : ""}`;
  const res = await api("GET", `/chat/admin/flags?${query}`, { jwt: chat.admin.jwt });
  expect(res.status, res.text).toBe(200);
  return AdminFlagsResponse.parse(res.body).flags;
}

async function auditActions(chat: ActiveChat, actorId: string): Promise<string[]> {
  const res = await api("GET", `/chat/admin/audit?adminId=${actorId}`, { jwt: chat.admin.jwt });
  return (res.body as { entries: { action: string; target: string }[] }).entries
    .filter((e) => e.target.includes(chat.bookingId))
    .map((e) => e.action);
}

async function both(chat: ActiveChat): Promise<[TestSocket, TestSocket]> {
  return [
    await joined(chat.bookingId, chat.customer, chat.customerToken),
    await joined(chat.bookingId, chat.provider, chat.providerToken),
  ];
}

function say(chat: ActiveChat, socket: TestSocket, as: "customer" | "provider", message: string) {
  const chatToken = as === "customer" ? chat.customerToken : chat.providerToken;
  socket.send("booking-chat", { bookingId: chat.bookingId, chatToken, message });
}

describe("the contact guard, masking", () => {
  it("shows the other party [hidden] live, in history, in notifications and in the chat list", async () => {
    const chat = await activeChat();
    const [customer, provider] = await both(chat);
    const providerInbox = await inbox(chat.provider);
    say(chat, customer, "customer", WITH_PHONE);
    const own = await customer.expect("booking-chat");
    expect(own).toMatchObject({ content: WITH_PHONE, masked: true });
    const theirs = await provider.expect("booking-chat");
    expect(theirs).toMatchObject({ content: MASKED, masked: true });
    const notification = await providerInbox.expect("booking-chat-notification");
    expect(notification.preview).toBe(MASKED);

    expect((await history(chat, "provider"))[0]).toMatchObject({ content: MASKED, masked: true });
    expect((await history(chat, "customer"))[0]).toMatchObject({ content: WITH_PHONE, masked: true });
    expect((await history(chat, "admin"))[0]).toMatchObject({ content: WITH_PHONE, masked: true });
    const list = await api("GET", "/chat/my-chats", { jwt: chat.provider.jwt });
    const row = MyChatsResponse.parse(list.body).chats.find((c) => c.bookingId === chat.bookingId);
    expect(row?.lastMessage?.content).toBe(MASKED);

    // D1 keeps the original, for disputes, and the admins' list names what was found.
    await settleD1(bookingRoom(env, chat.bookingId));
    const stored = await d1Of(chat.bookingId)
      .prepare("SELECT content FROM messages WHERE conversation_id = ?")
      .bind(chat.bookingId)
      .first<{ content: string }>();
    expect(stored?.content).toBe(WITH_PHONE);
    const found = await flags(chat, "contact");
    expect(found).toEqual([
      expect.objectContaining({
        kind: "contact",
        seq: 1,
        senderId: chat.customer.id,
        reason: "phone",
        reporterId: null,
      }),
    ]);
    for (const s of [customer, provider, providerInbox]) s.close();
  });

  it("leaves messages without contact details alone", async () => {
    const chat = await activeChat();
    const [customer, provider] = await both(chat);
    say(chat, customer, "customer", "The 2 bathrooms, $150, at 10:30 on 12/05/2026");
    await customer.expect("booking-chat");
    const heard = await provider.expect("booking-chat");
    expect(heard.content).toBe("The 2 bathrooms, $150, at 10:30 on 12/05/2026");
    expect(heard.masked).toBeUndefined();
    customer.close();
    provider.close();
  });

  it("masks for the other party over Socket.IO too", async () => {
    const chat = await activeChat();
    const customer = await joined(chat.bookingId, chat.customer, chat.customerToken);
    const sio = await RawSocketIo.connect(chat.provider.jwt);
    await sio.emitWithAck("join-booking", { bookingId: chat.bookingId, chatToken: chat.providerToken }, 1);
    say(chat, customer, "customer", "mail me at jane.doe@example.com");
    await customer.expect("booking-chat");
    const heard = await sio.next((p) => p.startsWith('42["booking-chat"'));
    expect(heard).toContain('"content":"mail me at [hidden]"');
    expect(heard).not.toContain("jane.doe");
    customer.close();
    sio.close();
  });
});

describe("reports", () => {
  it("a party reports the other party's message; admins see it with the flags, on the record", async () => {
    const chat = await activeChat();
    const [customer, provider] = await both(chat);
    say(chat, provider, "provider", "rude words");
    await customer.expect("booking-chat");
    const path = `/chat/booking/${chat.bookingId}/messages/1/report`;
    const headers = { "X-Chat-Token": chat.customerToken };
    const res = await api("POST", path, { jwt: chat.customer.jwt, headers, body: { reason: "abusive" } });
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({ report: { bookingId: chat.bookingId, seq: 1, reason: "abusive" } });
    // Reporting again adds nothing.
    await api("POST", path, { jwt: chat.customer.jwt, headers, body: { reason: "abusive" } });
    expect(await flags(chat, "report")).toEqual([
      expect.objectContaining({
        seq: 1,
        senderId: chat.provider.id,
        reporterId: chat.customer.id,
        reason: "abusive",
      }),
    ]);
    expect(await auditActions(chat, chat.customer.id)).toContain("message.report");

    const own = await api("POST", path, {
      jwt: chat.provider.jwt,
      headers: { "X-Chat-Token": chat.providerToken },
      body: { reason: "x" },
    });
    expect(own.status).toBe(400);
    const other = await activeChat();
    const stranger = await api("POST", path, {
      jwt: other.customer.jwt,
      headers: { "X-Chat-Token": other.customerToken },
      body: { reason: "x" },
    });
    expect(stranger.status).toBe(403);
    const noToken = await api("POST", path, { jwt: chat.customer.jwt, body: { reason: "x" } });
    expect(noToken.status).toBe(403);
    const missing = await api("POST", `/chat/booking/${chat.bookingId}/messages/9/report`, {
      jwt: chat.customer.jwt,
      headers,
      body: { reason: "x" },
    });
    expect(missing.status).toBe(404);
    customer.close();
    provider.close();
  });
});

describe("hiding a message", () => {
  it("parties hear message-hidden and see only its place from then on; admins still see it", async () => {
    const chat = await activeChat();
    const [customer, provider] = await both(chat);
    const photo = await uploaded(chat, chat.provider, PNG());
    provider.send("booking-chat", {
      bookingId: chat.bookingId,
      chatToken: chat.providerToken,
      message: "something awful",
      attachments: [photo],
      metadata: { x: 1 },
    });
    await provider.expect("booking-chat");
    await customer.expect("booking-chat");

    const refused = await api("POST", `/chat/booking/${chat.bookingId}/messages/1/hide`, {
      jwt: chat.customer.jwt,
    });
    expect(refused.status).toBe(403);
    const res = await api("POST", `/chat/booking/${chat.bookingId}/messages/1/hide`, {
      jwt: chat.admin.jwt,
      body: { reason: "abuse" },
    });
    expect(res.status, res.text).toBe(200);
    expect(HideResponse.parse(res.body).message).toMatchObject({ hidden: true, content: "something awful" });
    for (const socket of [customer, provider]) {
      expect(await socket.expect("message-hidden")).toEqual({ bookingId: chat.bookingId, seq: 1 });
      await socket.barrier();
      // Once: a repeat would be a second announcement of the same hiding.
      expect(socket.pending().filter((e) => e.event === "message-hidden")).toEqual([]);
    }
    for (const as of ["customer", "provider"] as const) {
      const [m] = await history(chat, as);
      expect(m).toMatchObject({ seq: 1, hidden: true, content: "", metadata: null });
      expect(m?.attachments).toBeUndefined();
    }
    expect((await history(chat, "admin"))[0]).toMatchObject({ hidden: true, content: "something awful" });
    expect((await download(chat, chat.customer, photo)).status).toBe(404);
    expect((await download(chat, chat.admin, photo)).status).toBe(200);
    expect(await auditActions(chat, chat.admin.id)).toContain("message.hide");

    // A late joiner replaying the history sees it hidden too.
    const late = await joined(chat.bookingId, chat.customer, chat.customerToken);
    late.send("join-booking", { bookingId: chat.bookingId, chatToken: chat.customerToken, sinceSeq: 0 });
    await late.expect("booking-joined");
    expect(await late.expect("booking-chat")).toMatchObject({ seq: 1, hidden: true, content: "" });
    for (const s of [customer, provider, late]) s.close();
  });
});

describe("freezing a chat", () => {
  it("refuses sends and uploads while frozen, announces both changes, and is on the record", async () => {
    const chat = await activeChat();
    const [customer, provider] = await both(chat);
    const freeze = await api("POST", `/bookings/${chat.bookingId}/chat/freeze`, {
      jwt: chat.admin.jwt,
      body: { reason: "dispute under review" },
    });
    expect(freeze.status, freeze.text).toBe(200);
    expect((freeze.body as { booking: { chatFrozenAt: string | null } }).booking.chatFrozenAt).not.toBeNull();
    for (const socket of [customer, provider]) {
      expect(await socket.expect("chat-frozen")).toMatchObject({ bookingId: chat.bookingId, frozen: true });
    }
    say(chat, customer, "customer", "hello?");
    expect(await customer.expect("chat-error")).toMatchObject({ code: "chat_frozen" });
    expect((await upload(chat, chat.provider, PNG())).body).toMatchObject({ error: { code: "chat_frozen" } });
    // Freezing again changes nothing and announces nothing.
    await api("POST", `/bookings/${chat.bookingId}/chat/freeze`, {
      jwt: chat.admin.jwt,
      body: { reason: "again" },
    });

    const parties = await api("POST", `/bookings/${chat.bookingId}/chat/freeze`, {
      jwt: chat.customer.jwt,
      body: { reason: "x" },
    });
    expect(parties.status).toBe(403);

    const unfreeze = await api("POST", `/bookings/${chat.bookingId}/chat/unfreeze`, {
      jwt: chat.admin.jwt,
      body: { reason: "resolved" },
    });
    expect(unfreeze.status, unfreeze.text).toBe(200);
    for (const socket of [customer, provider]) {
      expect(await socket.expect("chat-frozen")).toMatchObject({ frozen: false });
    }
    say(chat, customer, "customer", "thanks");
    expect((await provider.expect("booking-chat")).content).toBe("thanks");
    const actions = await auditActions(chat, chat.admin.id);
    expect(actions.filter((a) => a === "chat.freeze")).toHaveLength(2);
    expect(actions).toContain("chat.unfreeze");
    for (const s of [customer, provider]) s.close();
  });
});

describe("moderation over Socket.IO", () => {
  it("a Socket.IO party hears chat-frozen and message-hidden, and its sends are refused while frozen", async () => {
    const chat = await activeChat();
    const provider = await joined(chat.bookingId, chat.provider, chat.providerToken);
    const sio = await RawSocketIo.connect(chat.customer.jwt);
    await sio.emitWithAck("join-booking", { bookingId: chat.bookingId, chatToken: chat.customerToken }, 1);
    say(chat, provider, "provider", "first");
    await sio.next((p) => p.startsWith('42["booking-chat"'));

    await api("POST", `/bookings/${chat.bookingId}/chat/freeze`, {
      jwt: chat.admin.jwt,
      body: { reason: "review" },
    });
    expect(await sio.next((p) => p.startsWith('42["chat-frozen"'))).toContain('"frozen":true');
    const refused = await sio.emitWithAck(
      "booking-chat",
      { bookingId: chat.bookingId, chatToken: chat.customerToken, message: "hello?" },
      2,
    );
    expect(refused).toMatchObject({ error: { code: "chat_frozen" } });

    await api("POST", `/chat/booking/${chat.bookingId}/messages/1/hide`, { jwt: chat.admin.jwt });
    expect(await sio.next((p) => p.startsWith('42["message-hidden"'))).toContain('"seq":1');
    provider.close();
    sio.close();
  });
});
