// What a message costs in the units Cloudflare bills, counted by the Worker itself (GET /dev/meter):
// SQLite rows written in every object (index entries included, an alarm set counts as a row), D1
// rows written, calls to other objects, alarms. Two workloads on the same rooms: a person's pace
// (each booking sends one message every `paceSeconds`, phases spread, so nothing is batched) and
// bursts (each booking's customer sends `burstSize` messages back to back, bookings staggered).

/** Cloudflare's published Workers Paid prices used for the "$ per million messages" line. */
export const PRICES = {
  asOf: "2026-11-28",
  source: "developers.cloudflare.com/durable-objects/platform/pricing, /d1/platform/pricing",
  sqliteRowWritten: 1.0 / 1e6,
  d1RowWritten: 1.0 / 1e6,
  /** Durable Object requests: RPC calls, alarm invocations, incoming WebSocket messages (20:1). */
  request: 0.15 / 1e6,
};

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until the Worker's counters stop moving (every alarm has run), then returns them. */
async function settled(runtime, quietMs = 3_500) {
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

export async function measureCosts({ runtime, rooms, paceSeconds, paceDuration, burstSize, burstSpread }) {
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

  let before = await settled(runtime);
  await drive(rooms, pace);
  let after = await settled(runtime);
  const personsPace = perMessage(before, after);
  before = after;
  await drive(rooms, burst);
  after = await settled(runtime);
  return { personsPace, bursts: perMessage(before, after), paceSeconds, burstSize };
}
