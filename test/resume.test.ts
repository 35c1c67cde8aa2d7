import { evictDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { HistoryResponse, type Message } from "../src/protocol";
import { bookingRoom } from "../src/rooms";
import { api } from "./helpers/api";
import { type ActiveChat, activeChat } from "./helpers/flow";
import { connect, joined, type TestSocket } from "./helpers/socket";

async function sendFrom(socket: TestSocket, chat: ActiveChat, token: string, count: number, prefix: string) {
  for (let i = 0; i < count; i++) {
    socket.send("booking-chat", { bookingId: chat.bookingId, chatToken: token, message: `${prefix}${i}` });
  }
}

async function collect(socket: TestSocket, count: number): Promise<Message[]> {
  const seen: Message[] = [];
  while (seen.length < count) seen.push(await socket.expect("booking-chat"));
  return seen;
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe("resume with sinceSeq", () => {
  it("replays everything after sinceSeq, then live messages, with no gap and no duplicate", async () => {
    const chat = await activeChat();
    const provider = await joined(chat.bookingId, chat.provider, chat.providerToken);
    await sendFrom(provider, chat, chat.providerToken, 30, "before-");
    await collect(provider, 30);

    const customer = await connect(chat.bookingId, chat.customer);
    // The provider keeps talking while the customer resumes.
    await sendFrom(provider, chat, chat.providerToken, 10, "during-");
    customer.send("join-booking", { bookingId: chat.bookingId, chatToken: chat.customerToken, sinceSeq: 12 });
    const joinedAt = await customer.expect("booking-joined");
    expect(joinedAt.lastSeq).toBeGreaterThanOrEqual(30);
    const seen = await collect(customer, 40 - 12);
    expect(seen.map((m) => m.seq)).toEqual(range(13, 40));
    await customer.barrier();
    expect(customer.pending()).toEqual([]);
    provider.close();
    customer.close();
  });

  it("agrees with HTTP history after=", async () => {
    const chat = await activeChat();
    const provider = await joined(chat.bookingId, chat.provider, chat.providerToken);
    await sendFrom(provider, chat, chat.providerToken, 8, "m");
    await collect(provider, 8);
    const customer = await connect(chat.bookingId, chat.customer);
    customer.send("join-booking", { bookingId: chat.bookingId, chatToken: chat.customerToken, sinceSeq: 3 });
    await customer.expect("booking-joined");
    const replayed = await collect(customer, 5);
    const page = await api("GET", `/chat/booking/${chat.bookingId}?after=3`, {
      jwt: chat.customer.jwt,
      headers: { "X-Chat-Token": chat.customerToken },
    });
    expect(HistoryResponse.parse(page.body).messages).toEqual(replayed);
    provider.close();
    customer.close();
  });

  it("resumes and deduplicates after the room was evicted", async () => {
    const chat = await activeChat();
    const customer = await joined(chat.bookingId, chat.customer, chat.customerToken);
    const first = {
      bookingId: chat.bookingId,
      chatToken: chat.customerToken,
      message: "hi",
      clientMessageId: "c-1",
    };
    customer.send("booking-chat", first);
    const stored = await customer.expect("booking-chat");
    customer.close();

    await evictDurableObject(bookingRoom(env, chat.bookingId));
    const again = await connect(chat.bookingId, chat.customer);
    again.send("join-booking", { bookingId: chat.bookingId, chatToken: chat.customerToken, sinceSeq: 0 });
    await again.expect("booking-joined");
    expect(await again.expect("booking-chat")).toEqual(stored);
    // The resend of a message the client never saw acknowledged is answered, not stored again.
    again.send("booking-chat", first);
    expect(await again.expect("booking-chat")).toEqual(stored);
    const history = await api("GET", `/chat/booking/${chat.bookingId}`, { jwt: chat.admin.jwt });
    expect(HistoryResponse.parse(history.body).messages).toHaveLength(1);
    again.close();
  });
});
