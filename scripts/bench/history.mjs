// History reads on a long conversation: one booking filled with `messages` messages through the
// socket, then `before` pages of 50 timed warm and right after the room is evicted from memory.
import { Histogram } from "./histogram.mjs";

const PAGE = 50;
const WINDOW = 100; // messages in flight while filling

export async function measureHistory({ runtime, clients, messages, warmReads, coldReads }) {
  const booking = await clients.createBooking("history");
  const [customer] = booking.parties;
  await clients.connect(booking, customer);

  // Fill, closed loop: keep WINDOW messages unacknowledged at most.
  const started = performance.now();
  let sent = 0;
  let acked = 0;
  await new Promise((resolve, reject) => {
    const topUp = () => {
      while (sent < messages && sent - acked < WINDOW)
        customer.send(`h-${sent++}`, `history message ${sent}`);
    };
    customer.conn.onFrame = (text) => {
      const frame = JSON.parse(text);
      if (frame.event === "chat-error") return reject(new Error(`fill refused: ${frame.data.code}`));
      if (frame.event !== "booking-chat" || frame.data.senderId !== customer.userId) return;
      if (++acked === messages) resolve();
      else topUp();
    };
    topUp();
  });
  const fillSeconds = (performance.now() - started) / 1000;
  customer.conn.close();
  // Warm means steady: let the room finish copying the fill to D1 (200 messages per flush) first.
  for (let last = -1, i = 0; i < 60; i++) {
    const synced = (await runtime.meter()).total.d1RowsWritten;
    if (synced === last) break;
    last = synced;
    await new Promise((resolve) => setTimeout(resolve, 2_500));
  }

  const read = async () => {
    const before = PAGE + 1 + Math.floor(Math.random() * (messages - PAGE));
    const url = `${runtime.http}/chat/booking/${booking.id}?before=${before}&limit=${PAGE}`;
    const headers = { Authorization: `Bearer ${customer.jwt}`, "X-Chat-Token": customer.chatToken };
    let t = performance.now();
    let res;
    try {
      res = await fetch(url, { headers });
    } catch (error) {
      // Evicting the room can close the kept-alive connection under the next request, which then
      // never reached the server: send it again on a new connection and time that one.
      if (error?.cause?.code !== "UND_ERR_SOCKET") throw error;
      t = performance.now();
      res = await fetch(url, { headers });
    }
    const page = await res.json();
    const ms = performance.now() - t;
    if (!res.ok || page.messages.length !== PAGE || page.messages.at(-1).seq !== before - 1)
      throw new Error(`history page before ${before} was wrong: ${res.status}`);
    return ms;
  };

  const warm = new Histogram();
  for (let i = 0; i < 20; i++) await read(); // warm-up: isolate, object and page cache loaded
  for (let i = 0; i < warmReads; i++) warm.record(await read());

  const cold = new Histogram();
  for (let i = 0; i < coldReads; i++) {
    await runtime.evictRoom(booking.id);
    cold.record(await read());
  }
  return { messages, fillPerSecond: messages / fillSeconds, warm: warm.summary(), cold: cold.summary() };
}
