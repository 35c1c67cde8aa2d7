// Connection setup rate and memory: `sockets` sockets (two per booking) opened and joined as fast as
// `concurrency` clients can, then held idle while the runtime's resident memory is read.
import { pool } from "./clients.mjs";

export async function measureIdle({ runtime, clients, sockets, concurrency = 50 }) {
  const bookingCount = Math.ceil(sockets / 2);
  const memoryAtStart = runtime.memory();

  let t = performance.now();
  const bookings = await pool(bookingCount, concurrency, (i) => clients.createBooking(`idle${i}`));
  const bookingsPerSecond = bookingCount / ((performance.now() - t) / 1000);
  const memoryBeforeSockets = runtime.memory();

  const parties = bookings
    .flatMap((b) => b.parties.map((party) => ({ booking: b, party })))
    .slice(0, sockets);
  t = performance.now();
  await pool(parties.length, concurrency, (i) => clients.connect(parties[i].booking, parties[i].party));
  const setupPerSecond = parties.length / ((performance.now() - t) / 1000);

  await new Promise((resolve) => setTimeout(resolve, 2_000)); // let the runtime settle (and hibernate)
  const memoryHeld = runtime.memory();
  for (const { party } of parties) party.conn.close();
  return {
    sockets: parties.length,
    bookingsPerSecond,
    setupPerSecond,
    memoryAtStart,
    memoryBeforeSockets,
    memoryHeld,
    kibPerSocket: ((memoryHeld.rssMiB - memoryBeforeSockets.rssMiB) * 1024) / parties.length,
  };
}
