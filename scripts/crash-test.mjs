#!/usr/bin/env node
// Crash test: proves that a chat message a client saw acknowledged survives the runtime being killed.
//
// It starts the service on local workerd (`wrangler dev`) with state in a throwaway directory, opens
// the customer's and the provider's sockets in several bookings and has all of them chat, SIGKILLs
// workerd (and wrangler) mid-traffic, restarts on the same state and then checks, per booking:
//   - every acknowledged message (the sender's copy of its broadcast) is in history exactly once,
//     by id and by clientMessageId, with the seq it was acknowledged with;
//   - seqs run 1..lastSeq with no gap and no duplicate;
//   - each party resuming with `sinceSeq: 0` is replayed exactly the history (same ids, same order);
//   - resending acknowledged messages with their clientMessageId returns the stored copy (same id and
//     seq), broadcasts nothing and stores nothing.
// Unacknowledged sends may or may not be stored; that is allowed.
//
// Run: node scripts/crash-test.mjs [bookings]   (or npm run test:crash; CRASH_BOOKINGS=5 by default,
// CRASH_PORT=8797, CRASH_LOG=1 shows wrangler's output). Loopback only, stops by itself within 120 s,
// prints counts and exits 0 only if every check passes.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SignJWT } from "jose";

const BOOKINGS = Number(process.argv[2] ?? process.env.CRASH_BOOKINGS ?? 5);
const PORT = Number(process.env.CRASH_PORT ?? 8797);
const BASE = `http://127.0.0.1:${PORT}`;
const SEND_EVERY_MS = 25; // per socket: 40 messages/s, under the raised limits below
const TRAFFIC_MS = 2_000 + Math.floor(Math.random() * 1_000); // then the kill
const HARD_TIMEOUT_MS = 120_000;
const WAIT_MS = 15_000; // for any single frame, request or process to appear or go away
const WRANGLER = new URL("../node_modules/wrangler/bin/wrangler.js", import.meta.url).pathname;
const DEV_VARS = readFileSync(new URL("../.dev.vars", import.meta.url), "utf8");
const SECRET = new TextEncoder().encode(/^JWT_SECRET="?([^"\n]+)"?/m.exec(DEV_VARS)?.[1] ?? "");
// Raised send limits, so paced traffic is never refused (the defaults are 5/s per socket).
const LIMIT_VARS = [
  "SEND_RATE_PER_SOCKET:50",
  "SEND_BURST_PER_SOCKET:100",
  "SEND_RATE_PER_USER:100",
  "SEND_BURST_PER_USER:200",
  "FRAME_RATE_PER_SOCKET:200",
  "FRAME_BURST_PER_SOCKET:400",
];

if (!Number.isInteger(BOOKINGS) || BOOKINGS < 1) {
  console.error(`bookings must be a positive integer, got ${process.argv[2] ?? process.env.CRASH_BOOKINGS}`);
  process.exit(2);
}

const stateDir = mkdtempSync(join(tmpdir(), "spana-crash-"));
let server = null; // the running `wrangler dev` child process
const hardStop = setTimeout(() => abort(`timed out after ${HARD_TIMEOUT_MS / 1000} s`), HARD_TIMEOUT_MS);
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => abort(`got ${signal}`));

// ---------------------------------------------------------------------------------------------
// Small helpers

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (message) => console.error(`[crash-test] ${message}`);

function abort(message) {
  console.error(`FAIL: ${message}`);
  cleanup();
  process.exit(1);
}

function cleanup() {
  if (server) killTree(server.pid);
  server = null;
  rmSync(stateDir, { recursive: true, force: true });
}

async function until(what, check, ms = WAIT_MS) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

const jwt = (role, sub) =>
  new SignJWT({ role })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(sub)
    .setExpirationTime("1h")
    .sign(SECRET);

async function call(method, path, token, body) {
  const res = await fetch(`${BASE}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(WAIT_MS),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

const healthy = () =>
  fetch(`${BASE}/health`, { signal: AbortSignal.timeout(1_000) }).then(
    (r) => r.ok,
    () => false,
  );

// ---------------------------------------------------------------------------------------------
// The server: wrangler dev on persistent state, and how it is crashed

function runWrangler(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRANGLER, ...args], {
      stdio: process.env.CRASH_LOG ? ["ignore", "inherit", "inherit"] : "ignore",
      env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    });
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`wrangler ${args[0]} exited ${code}`)),
    );
  });
}

async function startServer() {
  if (await healthy()) throw new Error(`something already serves ${BASE}; set CRASH_PORT`);
  const vars = LIMIT_VARS.flatMap((v) => ["--var", v]);
  server = spawn(
    process.execPath,
    [WRANGLER, "dev", "--port", String(PORT), "--ip", "127.0.0.1", "--persist-to", stateDir, ...vars],
    {
      stdio: process.env.CRASH_LOG ? ["ignore", "inherit", "inherit"] : "ignore",
      env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    },
  );
  await until("the server to answer /health", healthy, 60_000);
}

/** pid and all its descendants, parents first. */
function processTree(pid) {
  let children = [];
  try {
    children = execFileSync("ps", ["-o", "pid=", "--ppid", String(pid)], { encoding: "utf8" })
      .split("\n")
      .map((s) => Number(s.trim()))
      .filter(Boolean);
  } catch {
    // ps exits 1 when there are none
  }
  return [pid, ...children.flatMap(processTree)];
}

function isWorkerd(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0].endsWith("/workerd");
  } catch {
    return false;
  }
}

function sigkill(pid) {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // already gone
  }
}

/** SIGKILLs a process tree, children first. */
function killTree(pid) {
  for (const p of processTree(pid).reverse()) sigkill(p);
}

/** kill -9 the workerd runtime(s) first, then wrangler; returns the workerd pids. */
function crashServer() {
  const tree = processTree(server.pid);
  const runtimes = tree.filter(isWorkerd);
  for (const pid of runtimes) sigkill(pid);
  for (const pid of tree.reverse()) sigkill(pid);
  server = null;
  return runtimes;
}

// ---------------------------------------------------------------------------------------------
// Sockets

/** An open booking socket that collects every frame; `waitFor` awaits a condition on them. */
async function openSocket(bookingId, token) {
  const ws = new WebSocket(`ws://127.0.0.1:${PORT}/bookings/${bookingId}/ws`, [
    "spana-chat.v1",
    `bearer.${token}`,
  ]);
  const conn = { ws, frames: [], listeners: new Set(), onFrame: () => {} };
  conn.closed = new Promise((resolve) => ws.addEventListener("close", resolve));
  ws.onmessage = (e) => {
    const frame = JSON.parse(e.data);
    conn.frames.push(frame);
    conn.onFrame(frame);
    for (const listener of conn.listeners) listener();
  };
  conn.send = (event, data) => ws.send(JSON.stringify({ event, data }));
  conn.chats = () => conn.frames.filter((f) => f.event === "booking-chat").map((f) => f.data);
  conn.waitFor = (what, predicate) =>
    new Promise((resolve, reject) => {
      const check = () => {
        const found = predicate(conn.frames);
        if (!found) return;
        conn.listeners.delete(check);
        clearTimeout(timer);
        resolve(found);
      };
      const timer = setTimeout(() => {
        conn.listeners.delete(check);
        reject(new Error(`timed out waiting for ${what} on booking ${bookingId}`));
      }, WAIT_MS);
      conn.listeners.add(check);
      check();
    });
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error(`socket to booking ${bookingId} failed`));
  });
  return conn;
}

/** Joins (optionally resuming from `sinceSeq`) and returns the `booking-joined` data. */
async function joinBooking(conn, bookingId, chatToken, sinceSeq) {
  conn.send("join-booking", { bookingId, chatToken, ...(sinceSeq === undefined ? {} : { sinceSeq }) });
  const frame = await conn.waitFor("booking-joined", (frames) =>
    frames.find((f) => f.event === "booking-joined" || f.event === "chat-error"),
  );
  if (frame.event === "chat-error") throw new Error(`join failed: ${JSON.stringify(frame.data)}`);
  return frame.data;
}

// ---------------------------------------------------------------------------------------------
// Phase 1: bookings and traffic

/** A booking through the real flow: created, paid, accepted; both parties hold chat tokens. */
async function createBooking(admin, index) {
  const customer = { role: "customer", tag: "c", userId: `crash-c${index}` };
  const provider = { role: "provider", tag: "p", userId: `crash-p${index}` };
  customer.jwt = await jwt("customer", customer.userId);
  provider.jwt = await jwt("service_provider", provider.userId);
  const { booking } = await call("POST", "/bookings", customer.jwt, { providerId: provider.userId });
  await call("POST", `/bookings/${booking.id}/payment`, admin);
  provider.chatToken = (await call("POST", `/bookings/${booking.id}/accept`, provider.jwt)).chatToken;
  customer.chatToken = (await call("GET", `/chat/booking/${booking.id}/token`, customer.jwt)).chatToken;
  for (const party of [customer, provider]) {
    party.sent = new Set(); // clientMessageIds handed to an open socket
    party.acks = new Map(); // clientMessageId -> { bookingId, seq, id, clientMessageId }
    party.ackConflicts = []; // the same clientMessageId acknowledged twice, differently
    party.refusals = []; // chat-error frames during traffic
  }
  return { id: booking.id, index, parties: [customer, provider] };
}

/** Opens and joins a party's socket and records its acknowledgements as they arrive. */
async function connectForTraffic(booking, party) {
  party.conn = await openSocket(booking.id, party.jwt);
  await joinBooking(party.conn, booking.id, party.chatToken);
  party.conn.onFrame = (frame) => {
    const { event, data } = frame;
    if (event === "chat-error") party.refusals.push(data);
    if (event !== "booking-chat" || data.senderId !== party.userId || !party.sent.has(data.clientMessageId))
      return;
    const ack = { bookingId: booking.id, seq: data.seq, id: data.id, clientMessageId: data.clientMessageId };
    const earlier = party.acks.get(ack.clientMessageId);
    if (earlier && (earlier.id !== ack.id || earlier.seq !== ack.seq))
      party.ackConflicts.push([earlier, ack]);
    if (!earlier) party.acks.set(ack.clientMessageId, ack);
  };
}

/** Sends a paced stream of messages from one party; returns a function that stops it. */
function drive(booking, party) {
  let n = 0;
  const sendOne = () => {
    if (party.conn.ws.readyState !== WebSocket.OPEN) return;
    const clientMessageId = `${party.tag}-${booking.index}-${n++}`;
    party.sent.add(clientMessageId);
    party.conn.send("booking-chat", {
      bookingId: booking.id,
      chatToken: party.chatToken,
      message: `message ${clientMessageId}`,
      clientMessageId,
    });
  };
  let timer = null;
  // Stagger the sockets so sends are spread over the interval.
  const start = setTimeout(() => {
    timer = setInterval(sendOne, SEND_EVERY_MS);
  }, Math.random() * SEND_EVERY_MS);
  return () => {
    clearTimeout(start);
    clearInterval(timer);
  };
}

/** Sends not acknowledged (yet). */
const inFlight = (parties) => parties.reduce((n, { party }) => n + party.sent.size - party.acks.size, 0);

// ---------------------------------------------------------------------------------------------
// Phase 2: after the restart

/** The booking's full history as an admin, paging forward until a page comes back empty. */
async function readHistory(bookingId, admin) {
  const messages = [];
  for (let after = 0; ; ) {
    const page = await call("GET", `/chat/booking/${bookingId}?after=${after}&limit=100`, admin);
    if (page.messages.length === 0) return messages;
    messages.push(...page.messages);
    after = page.messages.at(-1).seq;
  }
}

/** How many seqs in 1..max are missing, and how many seqs appear more than once. */
function seqProblems(messages) {
  const seen = new Map();
  for (const m of messages) seen.set(m.seq, (seen.get(m.seq) ?? 0) + 1);
  const max = Math.max(0, ...seen.keys());
  let gaps = 0;
  for (let seq = 1; seq <= max; seq++) if (!seen.has(seq)) gaps++;
  const repeats = [...seen.values()].reduce((sum, count) => sum + count - 1, 0);
  return { gaps, repeats };
}

/** Extra copies of an id, or of a (sender, clientMessageId) pair. */
function countDuplicates(messages) {
  const extra = (keys) => keys.length - new Set(keys).size;
  return (
    extra(messages.map((m) => m.id)) +
    extra(messages.filter((m) => m.clientMessageId).map((m) => `${m.senderId} ${m.clientMessageId}`))
  );
}

/** Compares one party's acknowledgements with the history; returns the problems found. */
function checkAcks(party, history, problems) {
  let stored = 0;
  for (const ack of party.acks.values()) {
    const byId = history.filter((m) => m.id === ack.id);
    const byClientId = history.filter(
      (m) => m.senderId === party.userId && m.clientMessageId === ack.clientMessageId,
    );
    if (
      byId.length === 1 &&
      byClientId.length === 1 &&
      byId[0] === byClientId[0] &&
      byId[0].seq === ack.seq
    ) {
      stored++;
    } else {
      problems.push(
        `acknowledged ${JSON.stringify(ack)} found ${byId.length}x by id, ${byClientId.length}x by ` +
          `clientMessageId: ${JSON.stringify([...byId, ...byClientId].map((m) => [m.seq, m.id]))}`,
      );
    }
  }
  return stored;
}

/** Reconnects a party with `sinceSeq: 0` and checks the replay equals the history. */
async function resume(booking, party, history, problems) {
  party.conn = await openSocket(booking.id, party.jwt);
  let joined = await joinBooking(party.conn, booking.id, party.chatToken, 0);
  const lastSeq = joined.lastSeq;
  // A join replays one page (REPLAY_LIMIT); a longer history comes by joining again from its end.
  for (;;) {
    const through = joined.replayThrough ?? lastSeq;
    await party.conn.waitFor(`${through} replayed messages`, () => party.conn.chats().length >= through);
    if (through >= lastSeq) break;
    joined = await joinBooking(party.conn, booking.id, party.chatToken, through);
  }
  await sleep(200); // anything beyond lastSeq would be a duplicate; give it time to show up
  const replay = party.conn.chats();
  const expected = history.map((m) => `${m.seq}:${m.id}`).join();
  if (lastSeq !== history.length || replay.map((m) => `${m.seq}:${m.id}`).join() !== expected) {
    problems.push(
      `${party.role} resume of ${booking.id}: lastSeq ${lastSeq}, replayed ${replay.length}, ` +
        `history ${history.length}`,
    );
    return 1;
  }
  return 0;
}

/** The first, a middle and the last acknowledged message of a party. */
function resendPicks(party) {
  const acks = [...party.acks.values()].sort((a, b) => a.seq - b.seq);
  return [...new Set([acks[0], acks[Math.floor(acks.length / 2)], acks.at(-1)])].filter(Boolean);
}

/** Resends acknowledged messages; each must come back as the stored copy, to the sender only. */
async function resend(booking, party, problems) {
  let mismatches = 0;
  for (const ack of resendPicks(party)) {
    const before = party.conn.frames.length;
    party.conn.send("booking-chat", {
      bookingId: booking.id,
      chatToken: party.chatToken,
      message: `resend ${ack.clientMessageId}`,
      clientMessageId: ack.clientMessageId,
    });
    const reply = await party.conn.waitFor(`the reply to resend ${ack.clientMessageId}`, (frames) =>
      frames
        .slice(before)
        .find((f) => f.event === "chat-error" || f.data?.clientMessageId === ack.clientMessageId),
    );
    if (reply.event !== "booking-chat" || reply.data.id !== ack.id || reply.data.seq !== ack.seq) {
      mismatches++;
      problems.push(`resend of ${JSON.stringify(ack)} answered ${JSON.stringify(reply)}`);
    }
  }
  return mismatches;
}

/** Every check for one booking after the restart. */
async function verifyBooking(booking, admin) {
  const problems = [];
  const history = await readHistory(booking.id, admin);
  const { gaps, repeats } = seqProblems(history);
  const duplicates = countDuplicates(history) + repeats;
  if (gaps || duplicates) problems.push(`${booking.id}: ${gaps} gaps, ${duplicates} duplicates in history`);

  let acknowledgedAndStored = 0;
  for (const party of booking.parties) {
    acknowledgedAndStored += checkAcks(party, history, problems);
    for (const [a, b] of party.ackConflicts)
      problems.push(`acknowledged twice differently: ${JSON.stringify(a)} and ${JSON.stringify(b)}`);
  }
  const sentIds = new Set(booking.parties.flatMap((p) => [...p.sent].map((c) => `${p.userId} ${c}`)));
  const unexpected = history.filter((m) => !sentIds.has(`${m.senderId} ${m.clientMessageId}`));
  for (const m of unexpected) problems.push(`stored but never sent: ${JSON.stringify(m)}`);

  let resumeMismatches = 0;
  for (const party of booking.parties) resumeMismatches += await resume(booking, party, history, problems);

  let resendMismatches = 0;
  const chatsBefore = booking.parties.map((p) => p.conn.chats().length);
  for (const party of booking.parties) resendMismatches += await resend(booking, party, problems);
  await sleep(200);
  // Each party got exactly its own resend replies back; nothing was broadcast to the other.
  const delivered = booking.parties.map((p, i) => p.conn.chats().length - chatsBefore[i]);
  const expected = booking.parties.map((p) => resendPicks(p).length);
  if (delivered.join() !== expected.join()) {
    resendMismatches++;
    problems.push(`${booking.id}: resends delivered ${delivered} frames, expected ${expected}`);
  }
  const after = await readHistory(booking.id, admin);
  if (after.length !== history.length) {
    resendMismatches++;
    problems.push(`${booking.id}: history grew from ${history.length} to ${after.length} on resends`);
  }
  for (const party of booking.parties) party.conn.ws.close();

  return {
    stored: history.length,
    acknowledgedAndStored,
    duplicates: duplicates + booking.parties.reduce((n, p) => n + p.ackConflicts.length, 0),
    gaps,
    unexpected: unexpected.length,
    resumeMismatches,
    resendMismatches,
    problems,
  };
}

// ---------------------------------------------------------------------------------------------

async function main() {
  await runWrangler(["d1", "migrations", "apply", "DB", "--local", "--persist-to", stateDir]);
  await startServer();
  log(`server up on ${BASE}, state in ${stateDir}`);
  const admin = await jwt("admin", "crash-admin");
  const bookings = [];
  for (let i = 0; i < BOOKINGS; i++) bookings.push(await createBooking(admin, i));
  const parties = bookings.flatMap((b) => b.parties.map((party) => ({ booking: b, party })));
  for (const { booking, party } of parties) await connectForTraffic(booking, party);

  const stops = parties.map(({ booking, party }) => drive(booking, party));
  await sleep(TRAFFIC_MS);
  // Kill at a moment when some sends still wait for their acknowledgement (light traffic keeps up).
  for (const deadline = Date.now() + 1_000; inFlight(parties) === 0 && Date.now() < deadline; )
    await sleep(1);
  const runtimes = crashServer();
  for (const stop of stops) stop();
  if (runtimes.length === 0) throw new Error("found no workerd process under wrangler to kill");
  log(`SIGKILLed workerd ${runtimes.join(", ")} after ${TRAFFIC_MS} ms of traffic`);
  // Frames the server wrote before dying may still be in our buffers: they count as acknowledged.
  await Promise.race([Promise.all(parties.map(({ party }) => party.conn.closed)), sleep(WAIT_MS)]);
  for (const { party } of parties) party.conn.onFrame = () => {};
  await until("the port to close", async () => !(await healthy()));

  await startServer();
  log("server restarted on the same state");
  const results = [];
  for (const booking of bookings) results.push(await verifyBooking(booking, admin));

  const sum = (f) => results.reduce((n, r) => n + f(r), 0);
  const sent = parties.reduce((n, { party }) => n + party.sent.size, 0);
  const acknowledged = parties.reduce((n, { party }) => n + party.acks.size, 0);
  const refused = parties.reduce((n, { party }) => n + party.refusals.length, 0);
  const counts = {
    stored: sum((r) => r.stored),
    acknowledgedAndStored: sum((r) => r.acknowledgedAndStored),
    duplicates: sum((r) => r.duplicates),
    gaps: sum((r) => r.gaps),
    unexpected: sum((r) => r.unexpected),
    resumeMismatches: sum((r) => r.resumeMismatches),
    resendMismatches: sum((r) => r.resendMismatches),
  };
  const problems = results.flatMap((r) => r.problems);
  if (acknowledged === 0) problems.push("no message was acknowledged before the kill");
  if (sent === acknowledged) log("note: every send was acknowledged; none was in flight at the kill");
  for (const { party } of parties)
    for (const refusal of party.refusals) problems.push(`refused during traffic: ${JSON.stringify(refusal)}`);

  for (const problem of problems.slice(0, 20)) console.error(`  problem: ${problem}`);
  if (problems.length > 20) console.error(`  ... and ${problems.length - 20} more problems`);
  console.log(
    `bookings ${BOOKINGS}, sent ${sent}, acknowledged ${acknowledged}, stored ${counts.stored}, ` +
      `acknowledged-and-stored ${counts.acknowledgedAndStored}, duplicates ${counts.duplicates}, ` +
      `gaps ${counts.gaps}, resume mismatches ${counts.resumeMismatches}, ` +
      `resend mismatches ${counts.resendMismatches}, unexpected ${counts.unexpected}, refused ${refused}`,
  );
  const pass = problems.length === 0 && counts.acknowledgedAndStored === acknowledged;
  console.log(pass ? "PASS" : "FAIL");
  return pass;
}

main().then(
  (pass) => {
    clearTimeout(hardStop);
    cleanup();
    process.exit(pass ? 0 : 1);
  },
  (error) => abort(error instanceof Error ? (error.stack ?? error.message) : String(error)),
);
