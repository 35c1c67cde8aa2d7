// Open-loop load: messages are scheduled at fixed intended times whatever the server does, and every
// latency is measured from the intended send time, so a stalled server or client shows up as latency
// instead of silently slowing the senders down (no coordinated omission).
import { readFileSync } from "node:fs";
import { Histogram } from "./histogram.mjs";

const MESSAGE_BYTES = 200;
const P99_TARGET_MS = 100;

/** CPU seconds (user + system) a process has used so far, from /proc. */
export function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks of 10 ms
}

/**
 * Sends `rate` messages per second for `seconds`, round-robin over every party of every room, and
 * waits up to `drainMs` for the stragglers, then for `settle()` (the work the step left behind, such
 * as ours' D1 copy) before the server's CPU is read, so each step is charged all of its own work. Each message is counted when its sender sees its own copy
 * (ack), when the other party gets it (delivery) and, if there is one, when the admin feed does.
 */
export async function runStep({
  rooms,
  adminFeed,
  rate,
  seconds,
  drainMs = 3_000,
  settle,
  serverPid,
  label,
}) {
  const senders = rooms.flatMap((room) =>
    room.parties.map((party, i) => ({ party, other: room.parties[1 - i] })),
  );
  const inFlight = new Map(); // clientMessageId -> { intended, sender, receiver, acked, delivered, fed }
  const ack = new Histogram();
  const delivery = new Histogram();
  const feed = new Histogram();
  const errors = new Map();
  let lastDeliveredAt = 0;
  let open = 0; // messages still waiting for at least one of their copies
  const copies = adminFeed ? 3 : 2;

  const receive = (conn) => (text, at) => {
    const frame = JSON.parse(text);
    if (frame.event === "chat-error") {
      errors.set(frame.data.code, (errors.get(frame.data.code) ?? 0) + 1);
      return;
    }
    if (frame.event !== "booking-chat") return;
    const m = inFlight.get(frame.data.clientMessageId);
    if (!m) return;
    const latency = at - m.intended;
    if (conn === m.sender && !m.acked) {
      m.acked = true;
      ack.record(latency);
    } else if (conn === m.receiver && !m.delivered) {
      m.delivered = true;
      delivery.record(latency);
      lastDeliveredAt = at;
    } else if (conn === adminFeed && !m.fed) {
      m.fed = true;
      feed.record(latency);
    } else return;
    if (++m.copies === copies) open--;
  };
  for (const { party } of senders) party.conn.onFrame = receive(party.conn);
  if (adminFeed) adminFeed.onFrame = receive(adminFeed);

  const total = Math.round(rate * seconds);
  const interval = 1000 / rate;
  const text = "m".repeat(MESSAGE_BYTES);
  const tag = `${label}-${rate}-${Date.now().toString(36)}`;
  const cpuBefore = serverPid ? cpuSeconds(serverPid) : 0;
  const clientCpuBefore = process.cpuUsage();
  const t0 = performance.now() + 20;
  let sent = 0;
  let latestSendLag = 0;
  while (sent < total) {
    const now = performance.now();
    while (sent < total && t0 + sent * interval <= now) {
      const { party, other } = senders[sent % senders.length];
      const clientMessageId = `${tag}-${sent}`;
      const intended = t0 + sent * interval;
      inFlight.set(clientMessageId, { intended, sender: party.conn, receiver: other.conn, copies: 0 });
      open++;
      party.send(clientMessageId, text);
      latestSendLag = Math.max(latestSendLag, performance.now() - intended);
      sent++;
    }
    if (sent < total) await sleep(Math.max(0, t0 + sent * interval - performance.now()));
  }
  const scheduleEnd = t0 + total * interval;
  const drainDeadline = performance.now() + drainMs;
  while (open > 0 && performance.now() < drainDeadline) await sleep(5);
  // Delivered per second counts the other party's copies, so the step ends with the last of them.
  const end = Math.max(scheduleEnd, lastDeliveredAt);
  await settle?.();
  const cpuUsed = serverPid ? cpuSeconds(serverPid) - cpuBefore : Number.NaN;
  const clientCpu = process.cpuUsage(clientCpuBefore);
  const measured = (performance.now() - t0) / 1000; // CPU was read over this, drain included

  const missing = total - delivery.count;
  const refused = [...errors.values()].reduce((a, b) => a + b, 0);
  const elapsed = (end - t0) / 1000;
  const deliveredSummary = delivery.summary();
  return {
    rate,
    sent: total,
    deliveredPerSecond: delivery.count / elapsed,
    ack: ack.summary(),
    delivery: deliveredSummary,
    feed: adminFeed ? feed.summary() : null,
    missing,
    missingFeed: adminFeed ? total - feed.count : 0,
    errors: Object.fromEntries(errors),
    refused,
    /** Server CPU time per delivered message, in ms (both cores count). */
    serverCpuMsPerMessage: (cpuUsed * 1000) / Math.max(1, delivery.count),
    serverCpuPercent: (cpuUsed / measured) * 100,
    clientCpuPercent: ((clientCpu.user + clientCpu.system) / 1e6 / measured) * 100,
    maxSendLagMs: latestSendLag,
    passed: missing === 0 && refused === 0 && deliveredSummary.p99 < P99_TARGET_MS,
  };
}

/**
 * Steps the offered rate up by `factor` until a step fails (p99 >= 100 ms, a message lost or refused)
 * or `maxRate` is passed, then narrows the gap between the last pass and the first failure by
 * `refinements` bisections (geometric), so the sustained rate is known to within a few percent.
 */
export async function ladder({ startRate, factor, maxRate, refinements = 2, onStep, ...step }) {
  const steps = [];
  let best = null;
  let failed = null;
  const run = async (rate) => {
    const result = await runStep({ ...step, rate });
    steps.push(result);
    await onStep?.(result);
    await sleep(1_000); // let the last step's outboxes drain before the next
    return result;
  };
  for (let rate = startRate; rate <= maxRate; rate = Math.round(rate * factor)) {
    const result = await run(rate);
    if (!result.passed) {
      failed = result;
      break;
    }
    best = result;
  }
  for (let i = 0; i < refinements && best && failed; i++) {
    const between = Math.round(Math.sqrt(best.rate * failed.rate));
    if (between <= best.rate || between >= failed.rate) break;
    const result = await run(between);
    if (result.passed) best = result;
    else failed = result;
  }
  return { steps: steps.sort((a, b) => a.rate - b.rate), sustained: best };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
