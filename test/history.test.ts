import { describe, expect, it } from "vitest";
import { HistoryResponse } from "../src/protocol";
import { api, field } from "./helpers/api";
import { type ActiveChat, activeChat, parties } from "./helpers/flow";
import { joined } from "./helpers/socket";

async function chatWith(count: number): Promise<ActiveChat> {
  const chat = await activeChat();
  const customer = await joined(chat.bookingId, chat.customer, chat.customerToken);
  for (let i = 1; i <= count; i++) {
    customer.send("booking-chat", {
      bookingId: chat.bookingId,
      chatToken: chat.customerToken,
      message: `m${i}`,
    });
  }
  for (let i = 1; i <= count; i++) expect((await customer.expect("booking-chat")).seq).toBe(i);
  customer.close();
  return chat;
}

async function history(chat: ActiveChat, query = "", token: string | null = chat.customerToken) {
  const res = await api("GET", `/chat/booking/${chat.bookingId}${query}`, {
    jwt: chat.customer.jwt,
    headers: token ? { "X-Chat-Token": token } : {},
  });
  expect(res.status, res.text).toBe(200);
  return HistoryResponse.parse(res.body);
}

const seqs = (page: HistoryResponse) => page.messages.map((m) => m.seq);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe("message history", () => {
  it("pages backwards from the newest with seq cursors, ascending inside each page", async () => {
    const chat = await chatWith(25);
    const newest = await history(chat, "?limit=10");
    expect(seqs(newest)).toEqual(range(16, 25));
    expect(newest.nextBefore).toBe(16);
    expect(newest.messages[0]).toMatchObject({
      content: "m16",
      senderId: chat.customer.id,
      chatType: "booking",
    });

    const middle = await history(chat, `?limit=10&before=${newest.nextBefore}`);
    expect(seqs(middle)).toEqual(range(6, 15));
    const oldest = await history(chat, `?limit=10&before=${middle.nextBefore}`);
    expect(seqs(oldest)).toEqual(range(1, 5));
    expect(oldest.nextBefore).toBeNull();

    expect(seqs(await history(chat, "?after=20"))).toEqual(range(21, 25));
    expect(seqs(await history(chat, "?after=0&limit=3"))).toEqual([1, 2, 3]);
    expect(seqs(await history(chat))).toEqual(range(1, 25));
    expect((await history(chat)).nextBefore).toBeNull();
  });

  it("returns an empty page for a chat without messages", async () => {
    const chat = await activeChat();
    expect(await history(chat)).toEqual({
      bookingId: chat.bookingId,
      chatActive: true,
      chatTerminatedAt: null,
      messages: [],
      nextBefore: null,
    });
  });

  it("refuses bad queries with 400", async () => {
    const chat = await activeChat();
    for (const query of [
      "?limit=101",
      "?limit=0",
      "?limit=abc",
      "?before=1&after=2",
      "?before=-1",
      "?page=2",
    ]) {
      const res = await api("GET", `/chat/booking/${chat.bookingId}${query}`, {
        jwt: chat.customer.jwt,
        headers: { "X-Chat-Token": chat.customerToken },
      });
      expect(res.status, query).toBe(400);
      expect(field(res.body, "error", "code")).toBe("invalid_request");
    }
  });

  it("needs the caller's own chat token, except for admins", async () => {
    const chat = await chatWith(2);
    const stranger = await parties();
    const cases: [string, Record<string, string>, number][] = [
      [chat.customer.jwt, {}, 403],
      [chat.customer.jwt, { "X-Chat-Token": chat.providerToken }, 403],
      [chat.customer.jwt, { "X-Chat-Token": `${chat.customerToken.slice(0, -2)}zz` }, 403],
      [chat.provider.jwt, { "X-Chat-Token": chat.providerToken }, 200],
      [chat.admin.jwt, {}, 200],
      [stranger.customer.jwt, { "X-Chat-Token": chat.customerToken }, 403],
      [stranger.provider.jwt, { "X-Chat-Token": chat.providerToken }, 403],
    ];
    for (const [jwt, headers, status] of cases) {
      const res = await api("GET", `/chat/booking/${chat.bookingId}`, { jwt, headers });
      expect(res.status).toBe(status);
      if (status !== 200) expect(res.text).not.toContain("m1");
    }
    const anonymous = await api("GET", `/chat/booking/${chat.bookingId}`, {
      headers: { "X-Chat-Token": chat.customerToken },
    });
    expect(anonymous.status).toBe(401);
    const unknown = await api("GET", `/chat/booking/${crypto.randomUUID()}`, { jwt: chat.admin.jwt });
    expect(unknown.status).toBe(404);
  });

  it("stays readable after the chat is terminated", async () => {
    const chat = await chatWith(3);
    await api("POST", `/bookings/${chat.bookingId}/complete`, { jwt: chat.provider.jwt });
    const page = await history(chat);
    expect(seqs(page)).toEqual([1, 2, 3]);
    expect(page.chatActive).toBe(false);
    expect(page.chatTerminatedAt).toEqual(expect.any(String));
  });
});
