import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { HistoryResponse } from "../src/protocol";
import { bookingRoom } from "../src/rooms";
import { api } from "./helpers/api";
import { d1Of, settleD1 } from "./helpers/d1";
import { type ActiveChat, activeChat } from "./helpers/flow";
import { inbox, joined, type TestSocket } from "./helpers/socket";
import { newProvider } from "./helpers/users";

/** Arrays nested `depth` deep around a number: `[[[...1...]]]`. */
function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

const chatFrame = (chat: ActiveChat, fields: Record<string, unknown>) =>
  JSON.stringify({
    event: "booking-chat",
    data: { bookingId: chat.bookingId, chatToken: chat.customerToken, ...fields },
  });

async function history(chat: ActiveChat) {
  const res = await api("GET", `/chat/booking/${chat.bookingId}`, { jwt: chat.admin.jwt });
  return HistoryResponse.parse(res.body).messages;
}

async function d1Contents(bookingId: string): Promise<string[]> {
  const { results } = await d1Of(bookingId)
    .prepare("SELECT content FROM messages WHERE chat_type = 'booking' AND conversation_id = ? ORDER BY seq")
    .bind(bookingId)
    .all<{ content: string }>();
  return results.map((r) => r.content);
}

async function refused(socket: TestSocket, frame: string) {
  socket.sendRaw(frame);
  return socket.expect("chat-error");
}

describe("content that could poison the pipeline or say one thing and store another", () => {
  it("refuses metadata nested deeper than 16 levels, so D1 takes every message after it", async () => {
    const chat = await activeChat();
    const customer = await joined(chat.bookingId, chat.customer, chat.customerToken);
    // 2 KB of arrays nested ~1,000 deep: under the size limit, over SQLite's JSON depth.
    const deep = { d: nested(990) };
    expect(JSON.stringify(deep).length).toBeLessThan(2048);
    const error = await refused(customer, chatFrame(chat, { message: "deep", metadata: deep }));
    expect(error).toMatchObject({ code: "invalid_payload" });
    expect(error.message).toMatch(/deep/i);
    // Exactly 16 levels is fine.
    customer.sendRaw(chatFrame(chat, { message: "ok", metadata: { d: nested(15) } }));
    expect(await customer.expect("booking-chat")).toMatchObject({ seq: 1, content: "ok" });
    for (const m of ["two", "three"]) {
      customer.sendRaw(chatFrame(chat, { message: m }));
      await customer.expect("booking-chat");
    }
    await settleD1(bookingRoom(env, chat.bookingId));
    expect(await d1Contents(chat.bookingId)).toEqual(["ok", "two", "three"]);
    customer.close();
  });

  it("refuses text that is not well-formed Unicode instead of storing something else than it broadcast", async () => {
    const chat = await activeChat();
    const customer = await joined(chat.bookingId, chat.customer, chat.customerToken);
    const loneSurrogates = "\udc00".repeat(4000);
    expect(await refused(customer, chatFrame(chat, { message: loneSurrogates }))).toMatchObject({
      code: "invalid_payload",
    });
    expect(
      await refused(customer, chatFrame(chat, { message: "fine", metadata: { note: "a\ud800b" } })),
    ).toMatchObject({ code: "invalid_payload" });
    expect(
      await refused(customer, chatFrame(chat, { message: "fine", clientMessageId: "\udfff" })),
    ).toMatchObject({ code: "invalid_payload" });
    // A well-formed astral character is one character, stored and sent alike.
    customer.sendRaw(chatFrame(chat, { message: "🙂 ok" }));
    const sent = await customer.expect("booking-chat");
    expect((await history(chat)).map((m) => m.content)).toEqual([sent.content]);
    customer.close();
  });

  it("answers deeply nested bodies and frames with a clear refusal, never an internal error", async () => {
    const provider = await newProvider();
    const body = JSON.stringify({ message: "help", metadata: { d: nested(4000) } });
    const res = await api("POST", "/chat/support/messages", {
      jwt: provider.jwt,
      rawBody: body,
      headers: { "Content-Type": "application/json" },
    });
    expect(res.status, res.text).toBe(400);
    expect(res.body).toMatchObject({ error: { code: "invalid_request" } });

    const socket = await inbox(provider);
    socket.sendRaw(
      JSON.stringify({ event: "support-chat", data: { message: "hi", metadata: nested(30_000) } }),
    );
    expect(await socket.expect("chat-error")).toMatchObject({ code: "invalid_payload" });
    socket.sendRaw(`{"event":"support-chat","data":${"[".repeat(50_000)}${"]".repeat(50_000)}}`);
    expect(await socket.expect("chat-error")).toMatchObject({ code: "invalid_payload" });
    socket.close();
  });

  it("keeps metadata exactly as sent, keys like __proto__ included", async () => {
    const chat = await activeChat();
    const customer = await joined(chat.bookingId, chat.customer, chat.customerToken);
    customer.sendRaw(
      `{"event":"booking-chat","data":{"bookingId":"${chat.bookingId}","chatToken":"${chat.customerToken}","message":"proto","metadata":{"__proto__":{"admin":true},"constructor":1}}}`,
    );
    const sent = await customer.expect("booking-chat");
    const keys = (m: { metadata: Record<string, unknown> | null }) => Object.keys(m.metadata ?? {}).sort();
    expect(keys(sent)).toEqual(["__proto__", "constructor"]);
    const [stored] = await history(chat);
    expect(stored && keys(stored)).toEqual(["__proto__", "constructor"]);
    await settleD1(bookingRoom(env, chat.bookingId));
    const row = await d1Of(chat.bookingId)
      .prepare("SELECT metadata FROM messages WHERE conversation_id = ?")
      .bind(chat.bookingId)
      .first<{ metadata: string }>();
    expect(row?.metadata).toContain('"__proto__"');
    customer.close();
  });

  it("treats a message of invisible characters as empty", async () => {
    const chat = await activeChat();
    const customer = await joined(chat.bookingId, chat.customer, chat.customerToken);
    for (const invisible of ["\u200b\u200b\u200b", "\u2060\ufeff", " \u200c\u200d \u00ad\n"]) {
      expect(await refused(customer, chatFrame(chat, { message: invisible }))).toMatchObject({
        code: "message_empty",
      });
    }
    expect(await history(chat)).toEqual([]);
    customer.close();
  });
});
