// What a message costs at a person's pace, where production lives: each booking sends one message
// every `paceSeconds` (phases spread, so nothing is batched and objects hibernate between messages),
// then bursts (each booking's customer sends `burstSize` messages back to back, bookings staggered).
// For every system: server CPU per message above the runtime's idle CPU, counted until all the work a
// message causes is done (for ours, until D1 holds every message). For ours also the units Cloudflare
// bills, counted by the Worker itself (GET /dev/meter): SQLite rows written in every object (index
// entries included, an alarm set counts as a row), D1 rows written, calls to other objects, alarms,
// and how often an object woke from hibernation or eviction.
import { cpuSeconds } from "./load.mjs";

/** Cloudflare's published Workers Paid prices used for the "$ per million messages" line. */
export const PRICES = {
  asOf: "2026-11-28",
  source: "developers.cloudflare.com/durable-objects/platform/pricing, /d1/platform/pricing",
  sqliteRowWritten: 1.0 / 1e6,
  d1RowWritten: 1.0 / 1e6,
  /** Durable Object requests: RPC calls, alarm invocations, incoming WebSocket messages (20:1). */
  request: 0.15 / 1e6,
  /** R2 Class A operations (a write); developers.cloudflare.com/r2/pricing. */
  r2ClassA: 4.5 / 1e6,
};

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const DRAIN_TIMEOUT_MS = 180_000;

/**
 * Waits until every piece of work the messages so far caused is done: for ours, until D1 holds every
 * message (the copy runs up to D1_COPY_INTERVAL_MS late) and the counters have stopped moving; for a
 * yardstick, a short quiet spell. Returns ours' counters.
 */
export async function drained(runtime, quietMs = 3_500) {
  if (!runtime.meter) {
    await sleep(1_000);
    return null;
  }
  const deadline = Date.now() + DRAIN_TIMEOUT_MS;
  while ((await runtime.d1Messages()) < (await runtime.meter()).total.messages) {
    if (Date.now() > deadline) throw new Error("D1 never caught up with the rooms");
    await sleep(250);
  }
  let last = JSON.stringify((await runtime.meter()).total);
  let quietSince = Date.now();
  for (;;) {
    await sleep(500);
    const now = JSON.stringify((await runtime.meter()).total);
    if (now !== last) {
      last = now;
      quietSince = Date.now();
    } else if (Date.now() - quietSince >= quietMs) return runtime.meter();
  }
}

/** Server CPU (ms) per second while nothing is sent. */
async function idleCpuRate(runtime, sampleMs) {
  const before = cpuSeconds(runtime.pid);
  await sleep(sampleMs);
  return ((cpuSeconds(runtime.pid) - before) * 1000) / (sampleMs / 1000);
}

function perMessage(before, after) {
  const kinds = Object.keys(after).filter((k) => k !== "total");
  const delta = (kind, key) => (after[kind]?.[key] ?? 0) - (before[kind]?.[key] ?? 0);
  const messages = delta("total", "messages");
  const per = (key) => delta("total", key) / messages;
  const sqliteRows = per("rowsWritten") + per("alarmsSet");
  const result = {
    messages,
    sqliteRows,
    rowsByKind: Object.fromEntries(
      kinds.map((k) => [k, (delta(k, "rowsWritten") + delta(k, "alarmsSet")) / messages]),
    ),
    alarmsSet: per("alarmsSet"),
    alarmsRun: per("alarmsRun"),
    calls: per("calls"),
    d1Rows: per("d1RowsWritten"),
    d1Statements: per("d1Statements"),
    callsByKind: Object.fromEntries(kinds.map((k) => [k, delta(k, "calls") / messages])),
    wakes: per("wakes"),
    wakesByKind: Object.fromEntries(kinds.map((k) => [k, delta(k, "wakes") / messages])),
    schemaChecks: per("schemaChecks"),
  };
  const requests = result.calls + result.alarmsRun + 1 / 20;
  result.dollarsPerMillion =
    1e6 *
    (sqliteRows * PRICES.sqliteRowWritten + result.d1Rows * PRICES.d1RowWritten + requests * PRICES.request);
  return result;
}

/** Sends on a schedule; resolves when every message has reached the other party. */
async function drive(rooms, schedule) {
  const expected = new Set();
  let arrived = 0;
  let done;
  const all = new Promise((resolve) => {
    done = resolve;
  });
  for (const room of rooms) {
    for (const party of room.parties) {
      party.conn.onFrame = (text) => {
        const frame = JSON.parse(text);
        if (frame.event !== "booking-chat" || !expected.has(frame.data.clientMessageId)) return;
        expected.delete(frame.data.clientMessageId);
        if (++arrived === schedule.length) done();
      };
    }
  }
  const t0 = performance.now();
  const tag = Date.now().toString(36);
  for (const [n, { at, room, sender }] of schedule.entries()) {
    const wait = t0 + at - performance.now();
    if (wait > 0) await sleep(wait);
    const id = `cost-${tag}-${n}`;
    expected.add(id);
    room.parties[sender].send(id, "m".repeat(200));
  }
  await Promise.race([all, sleep(30_000)]);
  if (expected.size > 0) throw new Error(`${expected.size} cost-phase messages never arrived`);
}

/** One workload: its messages, its server CPU above idle, and (ours) what it cost in billed units. */
async function measure(runtime, rooms, schedule, idleSampleMs) {
  const idlePerSecond = await idleCpuRate(runtime, idleSampleMs);
  const before = runtime.meter ? await runtime.meter() : null;
  const cpuBefore = cpuSeconds(runtime.pid);
  const t0 = performance.now();
  await drive(rooms, schedule);
  const after = await drained(runtime);
  const seconds = (performance.now() - t0) / 1000;
  const cpuMs = (cpuSeconds(runtime.pid) - cpuBefore) * 1000;
  const cpu = {
    messages: schedule.length,
    idleCpuMsPerSecond: idlePerSecond,
    serverCpuMsPerMessage: Math.max(0, cpuMs - idlePerSecond * seconds) / schedule.length,
  };
  return before ? { ...perMessage(before, after), ...cpu } : cpu;
}

export async function measureCosts({
  runtime,
  rooms,
  paceSeconds,
  paceDuration,
  burstSize,
  burstSpread,
  idleSampleMs = 10_000,
}) {
  const pace = [];
  rooms.forEach((room, r) => {
    const phase = Math.random() * paceSeconds * 1000;
    for (let k = 0; phase + k * paceSeconds * 1000 < paceDuration * 1000; k++)
      pace.push({ at: phase + k * paceSeconds * 1000, room, sender: (r + k) % 2 });
  });
  pace.sort((a, b) => a.at - b.at);
  const burst = [];
  rooms.forEach((room, r) => {
    const start = (r / rooms.length) * burstSpread * 1000;
    for (let k = 0; k < burstSize; k++) burst.push({ at: start, room, sender: 0 });
  });
  burst.sort((a, b) => a.at - b.at);

  await drained(runtime);
  const personsPace = await measure(runtime, rooms, pace, idleSampleMs);
  const bursts = await measure(runtime, rooms, burst, idleSampleMs);
  return { personsPace, bursts, paceSeconds, burstSize };
}
