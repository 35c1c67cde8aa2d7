import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ActiveChat, activeChat, runningService, type Service } from "./service";

// The outside attack run's flood, bounded: connections that send as fast as they can, before and
// after logging in, on a Socket.IO hub and on a booking room, against the running service with its
// default limits. Everyone else must not notice. Every client here stops sending once the server
// closes its connection, as WebSocket libraries do.

let service: Service;

beforeAll(async () => {
  service = await runningService();
});

afterAll(async () => {
  await service?.stop();
});

const newChat = () => activeChat(service.base);

/** A native booking socket, joined; its frames as parsed JSON. */
async function bookingSocket(bookingId: string, jwt: string, chatToken: string) {
  const ws = new WebSocket(`${service.base.replace("http", "ws")}/bookings/${bookingId}/ws`, [
    "spana-chat.v1",
    `bearer.${jwt}`,
  ]);
  const frames: { event: string; data: Record<string, unknown> }[] = [];
  ws.addEventListener("message", (e) => frames.push(JSON.parse(String(e.data))));
  await new Promise((resolve, reject) => {
    ws.addEventListener("open", resolve, { once: true });
    ws.addEventListener("error", reject, { once: true });
  });
  ws.send(JSON.stringify({ event: "join-booking", data: { bookingId, chatToken } }));
  await until(() => frames.some((f) => f.event === "booking-joined"), 5_000);
  return { ws, frames };
}

async function until(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

type Closed = { code: number; sent: number; ms: number };

/**
 * Sends `frame` at `perSecond` (or as fast as the socket takes it, when null) until the server
 * closes the connection or `stopAt`; resolves with the close, how many frames went out and when.
 */
function flood(ws: WebSocket, frame: string, stopAt: number, perSecond: number | null): Promise<Closed> {
  let sent = 0;
  const start = Date.now();
  return new Promise((resolve) => {
    ws.addEventListener("close", (e) => resolve({ code: e.code, sent, ms: Date.now() - start }), {
      once: true,
    });
    const pump = () => {
      if (ws.readyState !== WebSocket.OPEN) return;
      if (Date.now() > stopAt) return ws.close(1000, "flood over");
      const due = perSecond === null ? sent + 500 : Math.floor(((Date.now() - start) / 1000) * perSecond);
      if (ws.bufferedAmount < 1_000_000) for (; sent < due; sent++) ws.send(frame);
      if (perSecond === null) setImmediate(pump);
      else setTimeout(pump, 5);
    };
    pump();
  });
}

function socketIo(): WebSocket {
  return new WebSocket(`${service.base.replace("http", "ws")}/socket.io/?EIO=4&transport=websocket`);
}

/** Eight Socket.IO connections that never log in and eight logged-in booking sockets, flooding. */
async function floodAll(target: ActiveChat, ms: number, perSecond: number | null): Promise<Closed[]> {
  const anonymous = await Promise.all(
    Array.from({ length: 8 }, async () => {
      const ws = socketIo();
      await new Promise((resolve) => ws.addEventListener("open", resolve, { once: true }));
      return ws;
    }),
  );
  const loggedIn = await Promise.all(
    Array.from({ length: 8 }, () => bookingSocket(target.bookingId, target.customer, target.customerToken)),
  );
  const stopAt = Date.now() + ms;
  // All at once: Engine.IO pings at the hubs, frames the room must refuse.
  return Promise.all([
    ...anonymous.map((ws) => flood(ws, "2", stopAt, perSecond)),
    ...loggedIn.map(({ ws }) => flood(ws, '{"event":"nonsense","data":{}}', stopAt, perSecond)),
  ]);
}

/**
 * Another booking chatting while `during` runs (and for at least `minMs`): each message's round
 * trip to both parties, in order.
 */
async function chatDuring(victim: ActiveChat, during: Promise<unknown>, minMs = 1_500) {
  const customer = await bookingSocket(victim.bookingId, victim.customer, victim.customerToken);
  const provider = await bookingSocket(victim.bookingId, victim.provider, victim.providerToken);
  let floodOver = false;
  void during.finally(() => {
    floodOver = true;
  });
  const started = Date.now();
  const over = () => floodOver && Date.now() - started >= minMs;
  const roundTrips: number[] = [];
  const health: number[] = [];
  let n = 0;
  while (!over()) {
    const content = `still here ${++n}`;
    const sentAt = performance.now();
    customer.ws.send(
      JSON.stringify({
        event: "booking-chat",
        data: { bookingId: victim.bookingId, chatToken: victim.customerToken, message: content },
      }),
    );
    const heard = (f: { event: string; data: Record<string, unknown> }) =>
      f.event === "booking-chat" && f.data.content === content;
    await until(() => customer.frames.some(heard) && provider.frames.some(heard), 30_000);
    roundTrips.push(performance.now() - sentAt);
    if (n % 5 === 0) {
      const res = await fetch(`${service.base}/health`, { signal: AbortSignal.timeout(30_000) });
      health.push(res.status);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const contents = provider.frames.filter((f) => f.event === "booking-chat").map((f) => f.data.content);
  customer.ws.close();
  provider.ws.close();
  return { roundTrips, health, contents, sent: n };
}

describe("a flood of frames", () => {
  it("closes connections that flood at 1,000 frames a second, before or after logging in, and nobody else notices", async () => {
    const victim = await newChat();
    const target = await newChat();
    const memoryBefore = service.memory();
    const floods = floodAll(target, 3_000, 1_000);
    const chat = await chatDuring(victim, floods);
    const closes = await floods;
    const memoryAfter = service.memory();
    const summary = `flood: ${JSON.stringify(closes)}; other booking's round trips (ms) ${chat.roundTrips.map((t) => t.toFixed(0)).join(" ")}; /health ${chat.health.join(" ")}; memory ${memoryBefore.rssMiB.toFixed(0)} -> peak ${memoryAfter.peakMiB.toFixed(0)} MiB`;
    console.log(summary);
    // Each flooding connection was closed by the server, within a second, long before it would have stopped.
    expect(
      closes.map((c) => c.code),
      summary,
    ).toEqual(Array(16).fill(4429));
    expect(Math.max(...closes.map((c) => c.ms)), summary).toBeLessThan(1_500);
    expect(chat.roundTrips.length, summary).toBeGreaterThan(5);
    expect(Math.max(...chat.roundTrips), summary).toBeLessThan(250);
    expect(chat.contents).toEqual(Array.from({ length: chat.sent }, (_, i) => `still here ${i + 1}`));
    expect((await fetch(`${service.base}/health`)).status).toBe(200);
    expect(memoryAfter.peakMiB - memoryBefore.rssMiB, summary).toBeLessThan(200);
  });

  it("closes connections that flood as fast as they can, and bounds what the runtime holds", async () => {
    const victim = await newChat();
    const target = await newChat();
    const memoryBefore = service.memory();
    const floods = floodAll(target, 1_000, null);
    const chat = await chatDuring(victim, floods);
    const closes = await floods;
    const memoryAfter = service.memory();
    const summary = `flood: ${JSON.stringify(closes)}; other booking's round trips (ms) ${chat.roundTrips.map((t) => t.toFixed(0)).join(" ")}; /health ${chat.health.join(" ")}; memory ${memoryBefore.rssMiB.toFixed(0)} -> peak ${memoryAfter.peakMiB.toFixed(0)} MiB`;
    console.log(summary);
    // Closed for flooding; what each got in before its close arrived, the local runtime (one thread
    // for every object) still reads and dispatches, so the other booking waits meanwhile (see
    // docs/reliability.md). Nothing is lost, and memory stays bounded.
    expect(
      closes.map((c) => c.code),
      summary,
    ).toEqual(Array(16).fill(4429));
    expect(chat.contents).toEqual(Array.from({ length: chat.sent }, (_, i) => `still here ${i + 1}`));
    expect((await fetch(`${service.base}/health`)).status).toBe(200);
    expect(memoryAfter.peakMiB - memoryBefore.rssMiB, summary).toBeLessThan(200);
  });
});
