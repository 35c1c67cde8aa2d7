import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HistoryResponse, type Message, type ServerEvent } from "../src/protocol";
import { bookingRoom } from "../src/rooms";
import { api } from "./helpers/api";
import { d1Of, settleD1 } from "./helpers/d1";
import { activeChat, createBooking, parties } from "./helpers/flow";
import { joined, type TestSocket } from "./helpers/socket";
import { RawSocketIo } from "./helpers/socket-io";

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
    const frames = fc
      .oneof(
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
      )
      // U+FFFD is how invalid UTF-8 arrives, and closes the socket by design (test/frame-budget.test.ts).
      .filter((frame) => !frame.includes("\uFFFD"));
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
    const { results } = await d1Of(chat.bookingId)
      .prepare(
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

  it("Socket.IO packets: no crash, nobody's connection closed, and what is accepted is stored and sent as is", async () => {
    const chat = await activeChat();
    const other = await activeChat();
    const sender = await RawSocketIo.connect(chat.customer.jwt);
    const bystander = await RawSocketIo.connect(other.customer.jwt);
    const listener = await joined(chat.bookingId, chat.provider, chat.providerToken);
    const join = { bookingId: chat.bookingId, chatToken: chat.customerToken };
    expect(await sender.emitWithAck("join-booking", join, 1)).toMatchObject({ bookingId: chat.bookingId });
    expect(await sender.emitWithAck("booking-chat", { ...join, message: "first" }, 2)).toMatchObject({
      seq: 1,
    });
    const data = fc.oneof(
      fc
        .record(
          { message: text, clientMessageId: fc.string({ maxLength: 70 }), metadata },
          { requiredKeys: [] },
        )
        .map((fields) => ({ ...join, ...fields })),
      json,
    );
    const ackId = fc.oneof(
      fc.constant(""),
      fc.nat({ max: 10_000 }).map(String),
      fc.constantFrom("9007199254740993", "431234567890123456789012", "00", "-1"),
    );
    const nsp = fc.constantFrom("", "", "/admin,", "/,", "/x?y=1,", `/${"n".repeat(300)},`);
    const name = fc.constantFrom(
      "booking-chat",
      "join-booking",
      "mark-read",
      "watch-feed",
      "support-chat",
      "x",
    );
    const message = fc
      .record(
        { message: text, clientMessageId: fc.string({ maxLength: 70 }), metadata },
        { requiredKeys: ["message"] },
      )
      .map((fields) => ({ ...join, ...fields }));
    const packets = fc
      .oneof(
        fc.tuple(ackId, message).map(([id, d]) => `42${id}${JSON.stringify(["booking-chat", d])}`),
        fc.tuple(nsp, ackId, name, data).map(([n, id, e, d]) => `42${n}${id}${JSON.stringify([e, d])}`),
        // Binary events and acks (attachments follow in frames the hub never gets), acks, connect errors.
        fc
          .tuple(fc.constantFrom("451-", "461-", "43", "44", "40/x,"), json)
          .map(([head, d]) => `${head}${JSON.stringify(d)}`),
        fc
          .tuple(
            fc.constantFrom("4", "42", "2", "3", "5", "6", "0", "7", "9"),
            fc.string({ unit: "binary", maxLength: 60 }),
          )
          .map(([head, rest]) => `${head}${rest}`),
        fc.string({ unit: "binary", maxLength: 200 }),
      )
      // A close ("1"), a disconnect ("41") or U+FFFD (invalid UTF-8) end the connection by design.
      .filter((p) => !p.startsWith("1") && !p.startsWith("41") && !p.includes("\uFFFD"));
    let barrier = 1_000_000;
    await fc.assert(
      fc.asyncProperty(packets, async (packet) => {
        const from = sender.packets.length;
        sender.send(packet);
        // The room answers in order: once this read mark is acknowledged, the packet's answer is in.
        const id = ++barrier;
        sender.emit("mark-read", { bookingId: chat.bookingId, seq: 1 }, id);
        await sender.until((heard) => heard.some((p) => p.startsWith(`43${id}[`)));
        const otherNamespace = packet.startsWith("42/") && !packet.startsWith("42/,");
        for (const answer of sender.packets.slice(from)) {
          expect(answer).not.toContain("internal_error");
          // An acknowledgement carries back the id as sent: a safe integer in its own digits.
          if (answer.startsWith("43")) {
            const ack = /^43(\d+)\[/.exec(answer)?.[1];
            expect(ack !== undefined && Number.isSafeInteger(Number(ack)), answer).toBe(true);
          }
          // Nothing on another namespace is acted on as if it were on "/".
          if (otherNamespace) expect(answer.startsWith('42["booking-joined"'), answer).toBe(false);
        }
        expect(sender.closed).toBeNull();
      }),
      { seed: SEED, numRuns: 200 },
    );
    await listener.barrier();
    expect(sender.closed).toBeNull();
    expect(bystander.closed).toBeNull();
    expect(listener.closed).toBeNull();
    expect(bystander.events("booking-chat")).toEqual([]);
    const history = HistoryResponse.parse(
      (await api("GET", `/chat/booking/${chat.bookingId}?limit=100`, { jwt: chat.admin.jwt })).body,
    ).messages;
    expect(history.length).toBeGreaterThan(1);
    const exact = (m: Message) => JSON.stringify([m.seq, m.id, m.content, m.clientMessageId, m.metadata]);
    // Every message stored reached the other party and came back to the sender, exactly as stored.
    expect(listener.all("booking-chat").map(exact)).toEqual(history.map(exact));
    expect((sender.events("booking-chat") as Message[]).map(exact)).toEqual(history.map(exact));
    sender.close();
    bystander.close();
    listener.close();
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
