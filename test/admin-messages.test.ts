import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { AdminMessagesResponse } from "../src/protocol";
import { bookingRoom } from "../src/rooms";
import { supportThread } from "../src/support/thread-stub";
import { api, field } from "./helpers/api";
import { settleD1 } from "./helpers/d1";
import { type ActiveChat, activeChat } from "./helpers/flow";
import { joined } from "./helpers/socket";

async function send(chat: ActiveChat, count: number) {
  const customer = await joined(chat.bookingId, chat.customer, chat.customerToken);
  for (let i = 1; i <= count; i++) {
    customer.send("booking-chat", {
      bookingId: chat.bookingId,
      chatToken: chat.customerToken,
      message: `m${i}`,
    });
    await customer.expect("booking-chat");
  }
  customer.close();
  await settleD1(bookingRoom(env, chat.bookingId));
}

async function list(jwt: string, query: string) {
  const res = await api("GET", `/chat/admin/messages${query}`, { jwt });
  expect(res.status, res.text).toBe(200);
  return AdminMessagesResponse.parse(res.body);
}

describe("admin message listing over D1", () => {
  it("filters, counts and pages newest first with a stable cursor", async () => {
    const chat = await activeChat();
    const other = await activeChat();
    await send(chat, 7);
    await send(other, 2);
    const jwt = chat.admin.jwt;

    const first = await list(jwt, `?bookingId=${chat.bookingId}&limit=3`);
    expect(first.total).toBe(7);
    expect(first.messages.map((m) => m.seq)).toEqual([7, 6, 5]);
    expect(first.messages[0]).toMatchObject({
      chatType: "booking",
      bookingId: chat.bookingId,
      providerId: null,
    });

    // New messages arriving between pages do not shift the cursor.
    await send(chat, 1);
    const second = await list(jwt, `?bookingId=${chat.bookingId}&limit=3&cursor=${first.nextCursor}`);
    expect(second.messages.map((m) => m.seq)).toEqual([4, 3, 2]);
    expect(second.total).toBe(8);
    const third = await list(jwt, `?bookingId=${chat.bookingId}&limit=3&cursor=${second.nextCursor}`);
    expect(third.messages.map((m) => m.seq)).toEqual([1]);
    expect(third.nextCursor).toBeNull();

    const bySender = await list(jwt, `?senderId=${other.customer.id}`);
    expect(bySender.total).toBe(2);
    expect(bySender.messages.every((m) => m.bookingId === other.bookingId)).toBe(true);

    const future = await list(jwt, `?bookingId=${chat.bookingId}&since=2999-01-01T00:00:00Z`);
    expect(future).toEqual({ messages: [], total: 0, nextCursor: null, heldSince: null });
    const past = await list(jwt, `?bookingId=${chat.bookingId}&until=2000-01-01T00:00:00%2B02:00`);
    expect(past.total).toBe(0);
  });

  it("lists support messages by chatType", async () => {
    const chat = await activeChat();
    await api("POST", "/chat/support/messages", { jwt: chat.provider.jwt, body: { message: "help" } });
    await settleD1(supportThread(env, chat.provider.id));
    const support = await list(chat.admin.jwt, `?chatType=admin&senderId=${chat.provider.id}`);
    expect(support.total).toBe(1);
    expect(support.messages[0]).toMatchObject({
      chatType: "admin",
      providerId: chat.provider.id,
      bookingId: null,
    });
  });

  it("refuses invalid parameters with 400", async () => {
    const { admin } = await activeChat();
    for (const query of [
      "?limit=0",
      "?limit=101",
      "?chatType=sms",
      "?since=yesterday",
      "?cursor=not-a-cursor",
      "?bookingId=has_underscore",
      "?sort=asc",
    ]) {
      const res = await api("GET", `/chat/admin/messages${query}`, { jwt: admin.jwt });
      expect(res.status, query).toBe(400);
      expect(field(res.body, "error", "code")).toBe("invalid_request");
    }
  });
});
