import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HistoryResponse, type Message, type ServerEvent } from "../src/protocol";
import { bookingRoom } from "../src/rooms";
import { api } from "./helpers/api";
import { settleD1 } from "./helpers/d1";
import { activeChat, createBooking, parties } from "./helpers/flow";
import { joined, type TestSocket } from "./helpers/socket";

/** Fixed, so a failure reproduces; fast-check shrinks it to a minimal input first. */
const SEED = 20_261_128;

/** Text as people and attackers type it: any code point, lone surrogates and invisible ones included. */
const text = fc.oneof(
  fc.string({ unit: "binary", maxLength: 80 }),
  fc.string({ unit: "grapheme", maxLength: 80 }),
  fc.constantFrom("", " ", "\u200b\u200b", "\ud800", "x\udc00y", "x".repeat(4001), "🙂".repeat(4000)),
);
const json = fc.jsonValue({ maxDepth: 24 });
const metadata = fc.oneof(fc.dictionary(text, json, { maxKeys: 8 }), json);

/** Sends a frame and collects whatever the server answers before a barrier. */
async function answersTo(socket: TestSocket, frame: string): Promise<ServerEvent[]> {
  const from = socket.received.length;
  socket.sendRaw(frame);
  await socket.barrier();
  return socket.received.slice(from);
}

describe("property-based fuzzing over the protocol", () => {
  it("booking socket: no crash, nobody else's socket closed, and what is accepted is stored, sent and copied to D1 as is", async () => {
    const chat = await activeChat();
    const other = await activeChat();
    const sender = await joined(chat.bookingId, chat.customer, chat.customerToken);
    const listener = await joined(chat.bookingId, chat.provider, chat.providerToken);
    const bystander = await joined(other.bookingId, other.customer, other.customerToken);
    const send = (data: Record<string, unknown>) =>
      JSON.stringify({
        event: "booking-chat",
        data: { bookingId: chat.bookingId, chatToken: chat.customerToken, ...data },
      });
    const frames = fc.oneof(
      fc
        .record(
          { message: text, clientMessageId: fc.string({ maxLength: 70 }), metadata },
          { requiredKeys: ["message"] },
        )
        .map(send),
      fc
        .tuple(fc.constantFrom("booking-chat", "join-booking", "mark-read", "support-chat", "ping"), json)
        .map(([event, data]) => JSON.stringify({ event, data })),
      fc.json({ maxDepth: 30 }),
      fc.string({ unit: "binary", maxLength: 200 }),
    );
    const accepted = new Map<number, Message>();
    await fc.assert(
      fc.asyncProperty(frames, async (frame) => {
        const answers = await answersTo(sender, frame);
        for (const answer of answers) {
          expect(answer.event === "chat-error" ? answer.data.code : "ok").not.toBe("internal_error");
          if (answer.event === "booking-chat" && answer.data.bookingId === chat.bookingId) {
            accepted.set(answer.data.seq, answer.data);
          }
        }
        expect(sender.closed).toBeNull();
      }),
      { seed: SEED, numRuns: 250 },
    );
    expect(accepted.size).toBeGreaterThan(0);
    await listener.barrier();
    for (const socket of [sender, listener, bystander]) expect(socket.closed).toBeNull();
    const heard = new Map(listener.all("booking-chat").map((m) => [m.seq, m]));
    const history = HistoryResponse.parse(
      (await api("GET", `/chat/booking/${chat.bookingId}?limit=100`, { jwt: chat.admin.jwt })).body,
    ).messages;
    const exact = (m: Message) => JSON.stringify([m.seq, m.id, m.content, m.clientMessageId, m.metadata]);
    expect(history.map(exact)).toEqual([...accepted.values()].sort((a, b) => a.seq - b.seq).map(exact));
    expect([...heard.values()].map(exact)).toEqual(history.map(exact));
    await settleD1(bookingRoom(env, chat.bookingId));
    const { results } = await env.DB.prepare(
      "SELECT seq, id, content, client_message_id, metadata FROM messages WHERE chat_type = 'booking' AND conversation_id = ? ORDER BY seq",
    )
      .bind(chat.bookingId)
      .all<{
        seq: number;
        id: string;
        content: string;
        client_message_id: string | null;
        metadata: string | null;
      }>();
    expect(
      results.map((r) =>
        JSON.stringify([
          r.seq,
          r.id,
          r.content,
          r.client_message_id,
          r.metadata === null ? null : JSON.parse(r.metadata),
        ]),
      ),
    ).toEqual(history.map(exact));
    for (const socket of [sender, listener, bystander]) socket.close();
  });

  it("HTTP bodies: every route that takes one answers 2xx or 4xx with the error shape, never 5xx", async () => {
    const p = await parties();
    const booking = await createBooking(p);
    const routes = [
      { path: "/bookings", jwt: p.customer.jwt },
      { path: "/chat/support/messages", jwt: p.provider.jwt },
      { path: `/chat/support/${p.provider.id}/messages`, jwt: p.admin.jwt },
      { path: `/bookings/${booking.id}/payment`, jwt: p.admin.jwt },
      { path: `/bookings/${booking.id}/payment`, headers: { "X-Signature": "t=1,v1=00" } },
    ];
    const bodies = fc.oneof(
      fc.json({ maxDepth: 30 }),
      // Nesting deep enough to overflow anything recursive.
      fc
        .integer({ min: 1_000, max: 6_000 })
        .map((depth) => `{"message":"x","metadata":{"d":${"[".repeat(depth)}${"]".repeat(depth)}}}`),
      fc.string({ unit: "binary", maxLength: 300 }),
      fc
        .record(
          { message: text, providerId: text, notes: text, bookingId: text, metadata, clientMessageId: text },
          {
            requiredKeys: [],
          },
        )
        .map((body) => JSON.stringify(body)),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), bodies, async (route, rawBody) => {
        const res = await api("POST", route.path, {
          jwt: route.jwt,
          rawBody,
          headers: { "Content-Type": "application/json", ...route.headers },
        });
        expect(res.status, `${route.path} ${res.text}`).toBeLessThan(500);
        if (res.status >= 400) expect(res.body).toMatchObject({ error: { code: expect.any(String) } });
      }),
      { seed: SEED, numRuns: 200 },
    );
  });
});
