// What the extras of a message cost, on our service at a person's pace: a message carrying a
// photo (uploaded first, then named by the message), and a message whose recipient has no app open
// (one notification webhook each, to a receiver in this process). Counted as the pace workload is
// (GET /dev/meter, CPU above idle), until D1 holds every message and nothing moves.
import { createServer } from "node:http";
import { drained, PRICES } from "./costs.mjs";
import { cpuSeconds } from "./load.mjs";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A JPEG as a phone sends one, reduced to its structure: a JFIF header, one scan of `bytes`, the end. */
export function photoBytes(bytes) {
  const head = [0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0];
  const sos = [0xff, 0xda, 0, 8, 1, 1, 0, 0, 0x3f, 0];
  const photo = new Uint8Array(head.length + sos.length + bytes + 2);
  photo.set(head);
  photo.set(sos, head.length);
  photo.set([0xff, 0xd9], photo.length - 2);
  return photo;
}

/** A webhook receiver on loopback that answers 200 and counts what it got. */
export async function startReceiver() {
  const received = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", () => {
      received.push(JSON.parse(body));
      res.writeHead(200).end();
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/notify`,
    received,
    stop: () => new Promise((resolve) => server.close(resolve)),
  };
}

function perMessage(before, after, messages, cpuMs) {
  const delta = (key) => ((after.total[key] ?? 0) - (before.total[key] ?? 0)) / messages;
  const sqliteRows = delta("rowsWritten") + delta("alarmsSet");
  const requests = delta("calls") + delta("alarmsRun") + 1 / 20;
  return {
    messages,
    sqliteRows,
    alarmsSet: delta("alarmsSet"),
    alarmsRun: delta("alarmsRun"),
    calls: delta("calls"),
    d1Rows: delta("d1RowsWritten"),
    webhooks: delta("webhooks"),
    r2Writes: delta("r2Writes"),
    serverCpuMsPerMessage: cpuMs / messages,
    dollarsPerMillion:
      1e6 *
      (sqliteRows * PRICES.sqliteRowWritten +
        delta("d1RowsWritten") * PRICES.d1RowWritten +
        requests * PRICES.request +
        delta("r2Writes") * PRICES.r2ClassA),
  };
}

/** Runs `send` for each round and booking at a person's pace; CPU above idle and the meter's units per message. */
async function paced(runtime, { rooms, rounds, paceSeconds, idleMs, send, arrived }) {
  await drained(runtime);
  const idleBefore = cpuSeconds(runtime.pid);
  await sleep(idleMs);
  const idlePerMs = (cpuSeconds(runtime.pid) - idleBefore) / idleMs;
  const before = await runtime.meter();
  const cpuBefore = cpuSeconds(runtime.pid);
  const t0 = performance.now();
  for (let round = 0; round < rounds; round++) {
    const start = performance.now();
    await Promise.all(
      rooms.map((room, i) => sleep((i / rooms.length) * paceSeconds * 500).then(() => send(room, round))),
    );
    const wait = paceSeconds * 1000 - (performance.now() - start);
    if (wait > 0) await sleep(wait);
  }
  const deadline = Date.now() + 60_000;
  while (!arrived()) {
    if (Date.now() > deadline) throw new Error("extras: not everything arrived");
    await sleep(100);
  }
  const after = await drained(runtime);
  const elapsedMs = performance.now() - t0;
  const cpuMs = Math.max(0, (cpuSeconds(runtime.pid) - cpuBefore - idlePerMs * elapsedMs) * 1000);
  return perMessage(before, after, rooms.length * rounds, cpuMs);
}

/**
 * Both workloads on one runtime started with NOTIFY_WEBHOOK_URL at `receiver`: photos between two
 * connected parties, then messages to a provider who never connects.
 */
export async function measureExtras({
  runtime,
  clients,
  receiver,
  bookings,
  rounds,
  paceSeconds,
  photoKiB,
  idleMs,
}) {
  const photo = photoBytes(photoKiB * 1024);
  // Photos: both parties connected; the customer uploads, then sends the message that names it.
  const photoRooms = [];
  for (let i = 0; i < bookings; i++) photoRooms.push(await clients.connectRoom(`photo${i}`));
  let photosArrived = 0;
  for (const room of photoRooms) {
    room.parties[1].conn.onFrame = (text) => {
      if (text.includes('"attachments"')) photosArrived++;
    };
  }
  const withPhoto = await paced(runtime, {
    rooms: photoRooms,
    rounds,
    paceSeconds,
    idleMs,
    arrived: () => photosArrived >= bookings * rounds,
    send: async (room, round) => {
      const customer = room.parties[0];
      const res = await fetch(`${runtime.http}/chat/booking/${room.id}/attachments?name=photo-${round}.jpg`, {
        method: "POST",
        headers: {
          Authorization: `Bearer ${customer.jwt}`,
          "X-Chat-Token": customer.chatToken,
          "Content-Type": "image/jpeg",
        },
        body: photo,
      });
      if (res.status !== 201) throw new Error(`upload: ${res.status} ${await res.text()}`);
      const { attachment } = await res.json();
      customer.conn.send(
        JSON.stringify({
          event: "booking-chat",
          data: {
            bookingId: room.id,
            chatToken: customer.chatToken,
            message: "",
            attachments: [attachment.id],
          },
        }),
      );
    },
  });
  for (const room of photoRooms) for (const party of room.parties) party.conn.close();

  // Offline recipients: only the customer connects; the provider's apps are all closed.
  const offlineRooms = [];
  for (let i = 0; i < bookings; i++) {
    const booking = await clients.createBooking(`offline${i}`);
    await clients.connect(booking, booking.parties[0]);
    offlineRooms.push(booking);
  }
  const providers = new Set(offlineRooms.map((room) => room.parties[1].userId));
  const messagesTold = () =>
    receiver.received.filter((n) => n.type === "message" && providers.has(n.userId)).length;
  const toOffline = await paced(runtime, {
    rooms: offlineRooms,
    rounds,
    paceSeconds,
    idleMs,
    arrived: () => messagesTold() >= bookings * rounds,
    send: async (room, round) => {
      const customer = room.parties[0];
      customer.send(`offline-${room.id}-${round}`, "m".repeat(200));
    },
  });
  for (const room of offlineRooms) room.parties[0].conn.close();
  return { withPhoto, toOffline, rounds, paceSeconds, photoKiB, bookings };
}
