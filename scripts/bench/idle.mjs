// Connection setup rate and memory: `sockets` sockets (two per booking) opened and joined as fast as
// `concurrency` clients can, on a runtime started fresh on the state where the bookings were made,
// then held idle `settleMs` (long enough to hibernate) before the runtime's resident memory is read. With
// `pingWindowMs`, also what holding them costs over that window: the server's CPU, and the alarms
// its objects ran (Socket.IO's heartbeat).
import { pool } from "./clients.mjs";
import { cpuSeconds } from "./load.mjs";

/** Long enough for the bookings' D1 copies (1.5-2.5 s after a write) to be over before the window. */
const SETTLE_MS = 5_000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The bookings the idle sockets join, made as fast as `concurrency` clients can. */
export async function makeIdleBookings({ clients, sockets, concurrency = 50 }) {
  const bookingCount = Math.ceil(sockets / 2);
  const t = performance.now();
  const bookings = await pool(bookingCount, concurrency, (i) => clients.createBooking(`idle${i}`));
  return { bookings, bookingsPerSecond: bookingCount / ((performance.now() - t) / 1000) };
}

/**
 * Opens and joins `sockets` sockets to `bookings` (made by `makeIdleBookings`, in another process
 * on the same state, so the memory read here is the sockets' and not the booking flow's).
 */
export async function measureIdle({
  runtime,
  clients,
  bookings,
  sockets,
  concurrency = 50,
  settleMs = 2_000,
  pingWindowMs = 0,
}) {
  const memoryBeforeSockets = runtime.memory();

  const parties = bookings
    .flatMap((b) => b.parties.map((party) => ({ booking: b, party })))
    .slice(0, sockets);
  const t = performance.now();
  await pool(parties.length, concurrency, (i) => clients.connect(parties[i].booking, parties[i].party));
  const setupPerSecond = parties.length / ((performance.now() - t) / 1000);

  await sleep(settleMs); // let the runtime settle, and the objects hibernate
  const memoryHeld = runtime.memory();
  let held = null;
  if (pingWindowMs > 0) {
    await sleep(SETTLE_MS);
    const cpuBefore = cpuSeconds(runtime.pid);
    const meterBefore = (await runtime.meter()).total;
    await sleep(pingWindowMs);
    const meterAfter = (await runtime.meter()).total;
    held = {
      windowMs: pingWindowMs,
      serverCpuMs: (cpuSeconds(runtime.pid) - cpuBefore) * 1000,
      alarmsRun: meterAfter.alarmsRun - meterBefore.alarmsRun,
      calls: meterAfter.calls - meterBefore.calls,
      rowsWritten:
        meterAfter.rowsWritten + meterAfter.alarmsSet - meterBefore.rowsWritten - meterBefore.alarmsSet,
    };
  }
  for (const { party } of parties) party.conn.close();
  return {
    sockets: parties.length,
    setupPerSecond,
    memoryBeforeSockets,
    memoryHeld,
    kibPerSocket: ((memoryHeld.rssMiB - memoryBeforeSockets.rssMiB) * 1024) / parties.length,
    held,
  };
}
