#!/usr/bin/env node
// npm run bench: how close the chat runs to the runtime's own limit. Starts our Worker and a bare
// echo/broadcast Durable Object on local workerd, drives both with the same open-loop harness, and
// writes the results to docs/benchmarks.md. Loopback only; stops by itself. See docs/benchmarks.md.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { baselineClients, pool, serviceClients, socketIoClients } from "./clients.mjs";
import { drained, measureCosts } from "./costs.mjs";
import { measureExtras, startReceiver } from "./extras.mjs";
import { measureHistory } from "./history.mjs";
import { makeIdleBookings, measureIdle } from "./idle.mjs";
import { ladder, runStep } from "./load.mjs";
import { measurePrimitives } from "./primitives.mjs";
import { startProfile, summarizeProfile } from "./profile.mjs";
import { describeRun, formatStep, writeReport } from "./report.mjs";
import { startBaseline, startPrimitives, startService } from "./runtime.mjs";

const OPTIONS = {
  bookings: {
    type: "string",
    default: "100",
    help: "bookings (customer + provider sockets each) under load",
  },
  "step-seconds": { type: "string", default: "5", help: "length of each load step" },
  "start-rate": { type: "string", default: "250", help: "first offered rate, messages/s over all senders" },
  factor: { type: "string", default: "2", help: "each step offers this times the last" },
  "max-rate": { type: "string", default: "20000", help: "highest rate tried" },
  "history-messages": { type: "string", default: "10000", help: "messages in the history booking" },
  "idle-sockets": { type: "string", default: "5000", help: "idle joined sockets for the memory reading" },
  "pace-seconds": {
    type: "string",
    default: "10",
    help: "cost at a person's pace: each booking sends one message this often",
  },
  "pace-duration": { type: "string", default: "40", help: "how long the person's-pace workload runs (s)" },
  "burst-size": {
    type: "string",
    default: "20",
    help: "cost in bursts: messages each booking sends at once",
  },
  out: { type: "string", default: "docs/benchmarks.md", help: "report file ('-' for none)" },
  "state-dir": {
    type: "string",
    default: existsSync("/dev/shm") ? "/dev/shm" : tmpdir(),
    help: "where the runtimes keep their SQLite files (tmpfs by default: the VM's disk is not what is measured)",
  },
  profile: {
    type: "boolean",
    default: false,
    help: "CPU-profile our Worker for one extra step at its sustained rate",
  },
  "inspector-port": { type: "string", default: "9339", help: "workerd inspector port used by --profile" },
  "idle-only": {
    type: "boolean",
    default: false,
    help: "only the idle sockets' memory and holding cost, printed; the report is left alone",
  },
  smoke: {
    type: "boolean",
    default: false,
    help: "a few seconds at tiny scale; fails if the harness breaks",
  },
  help: { type: "boolean", default: false },
};
const SMOKE = {
  bookings: "4",
  "step-seconds": "1",
  "start-rate": "40",
  "max-rate": "80",
  "history-messages": "200",
  "idle-sockets": "40",
  "pace-seconds": "1",
  "pace-duration": "3",
  "burst-size": "5",
  out: "-",
};
/** The Socket.IO heartbeat for the idle measurement, faster than its 25 s default so a short window holds several rounds. */
const BENCH_PING_MS = { full: 5_000, smoke: 1_000 };
const PING_ROUNDS = 4;
// Capacity, not the abuse limiter, is what is measured: the send limits, the frame budget and the
// read limit are lifted for the run.
const BENCH_VARS = {
  SEND_RATE_PER_SOCKET: "100000",
  SEND_BURST_PER_SOCKET: "100000",
  SEND_RATE_PER_USER: "100000",
  SEND_BURST_PER_USER: "100000",
  FRAME_RATE_PER_SOCKET: "100000",
  FRAME_BURST_PER_SOCKET: "100000",
};
const BENCH_RATELIMITS = { READS_PER_USER: { simple: { limit: 1_000_000, period: 60 } } };

const { values: raw } = parseArgs({ options: OPTIONS, strict: true });
if (raw.help) {
  console.log("npm run bench -- [options]\n");
  for (const [name, o] of Object.entries(OPTIONS))
    if (o.help)
      console.log(`  --${name.padEnd(17)} ${o.help}${o.default !== false ? ` (${o.default})` : ""}`);
  process.exit(0);
}
const opts = raw.smoke ? { ...raw, ...SMOKE } : raw;
const number = (name) => {
  const n = Number(opts[name]);
  if (!(n > 0)) throw new Error(`--${name} must be a positive number, got ${opts[name]}`);
  return n;
};
const config = {
  smoke: opts.smoke,
  idleOnly: opts["idle-only"],
  bookings: number("bookings"),
  stepSeconds: number("step-seconds"),
  startRate: number("start-rate"),
  factor: number("factor"),
  maxRate: number("max-rate"),
  historyMessages: Math.max(100, number("history-messages")),
  idleSockets: number("idle-sockets"),
  paceSeconds: number("pace-seconds"),
  paceDuration: number("pace-duration"),
  burstSize: number("burst-size"),
  out: opts.out,
  stateDir: opts["state-dir"],
  profile: opts.profile,
  inspectorPort: number("inspector-port"),
};

// At a person's pace ours copies to D1 as production does (D1_COPY_INTERVAL_MS, 60 s; the smoke run
// shortens it). The ladder copies once per step, so each step's copy lands inside its own measurement:
// more, smaller copies than production makes, charged to us.
const PACE_VARS = config.smoke ? { ...BENCH_VARS, D1_COPY_INTERVAL_MS: "1000" } : BENCH_VARS;
const LADDER_VARS = { ...BENCH_VARS, D1_COPY_INTERVAL_MS: String(config.stepSeconds * 1000) };
/** Memory is read this long after the last socket joined: objects hibernate after about 10 s idle. */
const IDLE_SETTLE_MS = config.smoke ? 1_000 : 15_000;
const HARD_TIMEOUT_MS = config.smoke ? 240_000 : 40 * 60_000;
const stateRoot = mkdtempSync(join(config.stateDir, "spana-bench-"));
const running = new Set();
const log = (message) => console.error(`[bench] ${message}`);
const hardStop = setTimeout(
  () => fail(new Error(`timed out after ${HARD_TIMEOUT_MS / 1000} s`)),
  HARD_TIMEOUT_MS,
);
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => fail(new Error(`got ${signal}`)));

async function boot(start, name, options = {}) {
  const runtime = await start({ stateDir: mkdtempSync(join(stateRoot, `${name}-`)), ...options });
  running.add(runtime);
  return runtime;
}

async function shutdown(runtime) {
  running.delete(runtime);
  await runtime.stop();
}

async function fail(error) {
  console.error(`FAIL: ${error.stack ?? error}`);
  await Promise.allSettled([...running].map((r) => r.stop()));
  rmSync(stateRoot, { recursive: true, force: true });
  process.exit(1);
}

/** One system at a person's pace, then in bursts: CPU per message, and for ours what it is billed. */
async function paceSystem(name, runtime, clients) {
  const t = performance.now();
  const rooms = await pool(config.bookings, 20, (i) => clients.connectRoom(`pace${i}`));
  const adminFeed = await clients.connectAdminFeed();
  const costs = await measureCosts({
    runtime,
    rooms,
    paceSeconds: config.paceSeconds,
    paceDuration: config.paceDuration,
    burstSize: config.burstSize,
    burstSpread: config.smoke ? 1 : 5,
    idleSampleMs: config.smoke ? 500 : 10_000,
  });
  log(`${name}: costs ${JSON.stringify(costs)} (${((performance.now() - t) / 1000).toFixed(0)} s)`);
  for (const room of rooms) for (const party of room.parties) party.conn.close();
  adminFeed?.close();
  return costs;
}

/** One system under load: its rooms connected, then the rate ladder (and, asked, a profiled step). */
async function loadSystem(name, runtime, clients, profile = false) {
  let t = performance.now();
  const rooms = await pool(config.bookings, 20, (i) => clients.connectRoom(`load${i}`));
  log(`${name}: ${rooms.length} rooms connected in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  const adminFeed = await clients.connectAdminFeed();
  // Ours leaves its D1 copy behind each step: the step's CPU is read once D1 holds all of it.
  const settle = runtime.meter ? () => drained(runtime, 1_500) : undefined;
  let d1Last = runtime.meter ? (await runtime.meter()).total : null;
  t = performance.now();
  const result = await ladder({
    rooms,
    adminFeed,
    settle,
    startRate: config.startRate,
    factor: config.factor,
    maxRate: config.maxRate,
    seconds: config.stepSeconds,
    serverPid: runtime.pid,
    label: name,
    onStep: async (step) => {
      if (runtime.meter) {
        const stats = (await runtime.meter()).total;
        step.d1 = {
          statements: stats.d1Statements - d1Last.d1Statements,
          messages: stats.messages - d1Last.messages,
        };
        d1Last = stats;
      }
      log(`${name}: ${formatStep(step)}`);
    },
  });
  log(`${name}: ladder took ${((performance.now() - t) / 1000).toFixed(0)} s`);
  if (profile) {
    const rate = result.sustained?.rate ?? config.startRate;
    const profiler = await startProfile(config.inspectorPort);
    const step = await runStep({
      rooms,
      adminFeed,
      rate,
      settle,
      seconds: config.stepSeconds,
      serverPid: runtime.pid,
      label: "profile",
    });
    result.profile = { rate, step, ...summarizeProfile(await profiler.stop(), 20) };
    log(`${name}: profiled ${formatStep(step)}`);
  }
  for (const room of rooms) for (const party of room.parties) party.conn.close();
  adminFeed?.close();
  return result;
}

/**
 * Idle sockets: the bookings made in one runtime, which is then stopped, and the sockets opened on a
 * fresh one over the same state, so its memory holds the sockets and not the booking flow's garbage.
 */
async function idleSystem(name, start, clientsFor, options, measure = {}) {
  const stateDir = mkdtempSync(join(stateRoot, `${name}-`));
  let runtime = await boot(start, `${name}-bookings`, { ...options, stateDir });
  const { bookings, bookingsPerSecond } = await makeIdleBookings({
    clients: clientsFor(runtime),
    sockets: config.idleSockets,
  });
  await shutdown(runtime);
  runtime = await boot(start, name, { ...options, stateDir });
  const result = await measureIdle({
    runtime,
    clients: clientsFor(runtime),
    bookings,
    sockets: config.idleSockets,
    settleMs: IDLE_SETTLE_MS,
    ...measure,
  });
  await shutdown(runtime);
  log(`${name}: idle ${JSON.stringify(result)}`);
  return { ...result, bookingsPerSecond };
}

/** A yardstick or ours, at a person's pace and then under the ladder, each on a fresh runtime. */
async function system(name, start, clientsFor, { vars, ladderVars, profile = false, ...options } = {}) {
  let runtime = await boot(start, `${name}-pace`, { vars, ...options });
  const costs = await paceSystem(name, runtime, clientsFor(runtime));
  await shutdown(runtime);
  runtime = await boot(start, name, {
    vars: { ...vars, ...ladderVars },
    inspectorPort: profile ? config.inspectorPort : undefined,
    ...options,
  });
  const result = await loadSystem(name, runtime, clientsFor(runtime), profile);
  await shutdown(runtime);
  return { ...result, costs };
}

try {
  const runId = Date.now().toString(36);
  const results = { config, load: {}, idle: {} };
  if (config.idleOnly) {
    const pingMs = config.smoke ? BENCH_PING_MS.smoke : BENCH_PING_MS.full;
    const held = { pingWindowMs: pingMs * PING_ROUNDS };
    const base = await idleSystem("baseline-idle", startBaseline, (r) => baselineClients(r), {});
    const ours = await idleSystem(
      "service-idle",
      startService,
      (r) => serviceClients(r, runId),
      { vars: PACE_VARS, ratelimits: BENCH_RATELIMITS },
      held,
    );
    const sio = await idleSystem(
      "socket-io-idle",
      startService,
      (r) => socketIoClients(r, runId),
      { vars: { ...PACE_VARS, SOCKET_IO_PING_INTERVAL_MS: String(pingMs) } },
      held,
    );
    const kib = (x) => x.kibPerSocket.toFixed(0);
    console.log(
      `KiB per idle joined socket: bare ${kib(base)}, ours ${kib(ours)} (${(ours.kibPerSocket / base.kibPerSocket).toFixed(2)}×), Socket.IO ${kib(sio)}`,
    );
    clearTimeout(hardStop);
    rmSync(stateRoot, { recursive: true, force: true });
    process.exit(0);
  }

  log("baseline: bare echo/broadcast Durable Object");
  results.load.baseline = await system("baseline", startBaseline, (r) => baselineClients(r));
  log("durable baseline: the same, writing each frame to SQLite before relaying it");
  results.load.durable = await system("durable baseline", startBaseline, (r) =>
    baselineClients(r, { durable: true }),
  );
  log(
    "relay baseline: the durable one with a third, listening socket per room (three frames a message, as ours)",
  );
  results.load.relay = await system("relay baseline", startBaseline, (r) =>
    baselineClients(r, { durable: true, watched: true }),
  );
  results.idle.baseline = await idleSystem("baseline-idle", startBaseline, (r) => baselineClients(r), {});

  let runtime = await boot(startPrimitives, "primitives");
  results.primitives = await measurePrimitives({ runtime, times: config.smoke ? 50 : 2_000 });
  log(`primitives: ${results.primitives.map((p) => `${p.name} ${p.microseconds.toFixed(1)} µs`).join("; ")}`);
  await shutdown(runtime);

  log("spana-chat: our Worker");
  const serviceOptions = { vars: PACE_VARS, ladderVars: LADDER_VARS, ratelimits: BENCH_RATELIMITS };
  results.load.service = await system("spana-chat", startService, (r) => serviceClients(r, runId), {
    ...serviceOptions,
    profile: config.profile,
  });
  runtime = await boot(startService, "service-history", { vars: LADDER_VARS, ratelimits: BENCH_RATELIMITS });
  results.history = await measureHistory({
    runtime,
    clients: serviceClients(runtime, runId),
    messages: config.historyMessages,
    warmReads: config.smoke ? 20 : 500,
    coldReads: config.smoke ? 3 : 30,
  });
  log(`spana-chat: history ${JSON.stringify(results.history)}`);
  await shutdown(runtime);
  // A message with a photo, and one to a party whose apps are closed (one notification each).
  const receiver = await startReceiver();
  runtime = await boot(startService, "service-extras", {
    vars: {
      ...PACE_VARS,
      NOTIFY_WEBHOOK_URL: receiver.url,
      NOTIFY_WEBHOOK_SECRET: "bench-notify-webhook-secret-0123456789",
      NOTIFY_COALESCE_SECONDS: "1",
    },
    ratelimits: BENCH_RATELIMITS,
  });
  results.extras = await measureExtras({
    runtime,
    clients: serviceClients(runtime, runId),
    receiver,
    bookings: config.smoke ? 5 : 50,
    rounds: config.smoke ? 2 : 4,
    paceSeconds: 3,
    photoKiB: 100,
    idleMs: config.smoke ? 500 : 5_000,
  });
  log(`spana-chat: extras ${JSON.stringify(results.extras)}`);
  await shutdown(runtime);
  await receiver.stop();
  // Idle sockets held as long as the Socket.IO connections below are, for what holding costs.
  const pingMs = config.smoke ? BENCH_PING_MS.smoke : BENCH_PING_MS.full;
  results.idle.service = await idleSystem(
    "service-idle",
    startService,
    (r) => serviceClients(r, runId),
    { vars: PACE_VARS, ratelimits: BENCH_RATELIMITS },
    { pingWindowMs: pingMs * PING_ROUNDS },
  );

  log("spana-chat over Socket.IO: the seed's apps, one connection per user");
  results.load.socketIo = await system(
    "socket.io",
    startService,
    (r) => socketIoClients(r, runId),
    serviceOptions,
  );
  results.idle.socketIo = await idleSystem(
    "socket-io-idle",
    startService,
    (r) => socketIoClients(r, runId),
    { vars: { ...PACE_VARS, SOCKET_IO_PING_INTERVAL_MS: String(pingMs) } },
    { pingWindowMs: pingMs * PING_ROUNDS },
  );
  results.idle.socketIo.pingIntervalMs = pingMs;

  const report = describeRun(results);
  console.log(report);
  if (config.out !== "-") writeReport(config.out, report);
  const steps = Object.values(results.load).flatMap((system) => system.steps);
  if (config.smoke) {
    // The smoke run checks the harness end to end, not speed: every message must arrive, none refused.
    const lost = steps.filter((st) => st.missing > 0 || st.missingFeed > 0 || st.refused > 0);
    if (lost.length > 0) throw new Error(`messages lost or refused: ${lost.map(formatStep).join("; ")}`);
  } else if (Object.values(results.load).some((system) => !system.sustained)) {
    throw new Error("a system sustained no rate at all: the harness or the service is broken");
  }
  clearTimeout(hardStop);
  rmSync(stateRoot, { recursive: true, force: true });
} catch (error) {
  await fail(error);
}
