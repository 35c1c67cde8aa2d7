#!/usr/bin/env node
// Crash test: proves that a message a client saw acknowledged survives the runtime being killed.
// Starts the service on local workerd (wrangler dev) with persistent state, drives chat traffic in
// several bookings, SIGKILLs the runtime mid-traffic, restarts it on the same state, then checks
// that every acknowledged message is in history exactly once, seqs have no gaps, clients resume
// with sinceSeq and miss nothing, and resends are answered with the stored copy.
//   npm run test:crash            (CRASH_BOOKINGS=5 by default; loopback only; stops by itself)
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SignJWT } from "jose";

const BOOKINGS = Number(process.env.CRASH_BOOKINGS ?? 5);
const PORT = 8797;
const BASE = `http://127.0.0.1:${PORT}`;
const WRANGLER = new URL("../node_modules/wrangler/bin/wrangler.js", import.meta.url).pathname;
const DEV_VARS = readFileSync(new URL("../.dev.vars", import.meta.url), "utf8");
const SECRET = new TextEncoder().encode(/^JWT_SECRET="?([^"\n]+)"?/m.exec(DEV_VARS)?.[1] ?? "");
// Traffic is paced under these, so every send is answered (acknowledged or not, never refused).
const LIMITS = [
  "SEND_RATE_PER_SOCKET:50",
  "SEND_BURST_PER_SOCKET:100",
  "SEND_RATE_PER_USER:100",
  "SEND_BURST_PER_USER:200",
];
const state = mkdtempSync(join(tmpdir(), "spana-crash-"));
const hardStop = setTimeout(() => fail("timed out after 120 s"), 120_000);
let server = null;

function fail(message) {
  console.error(`FAIL: ${message}`);
  cleanup();
  process.exit(1);
}

function cleanup() {
  if (server) killTree(server.pid);
  rmSync(state, { recursive: true, force: true });
}

/** SIGKILLs a process and everything it started (wrangler runs workerd as a child). */
function killTree(pid) {
  let children = [];
  try {
    children = execFileSync("ps", ["-o", "pid=", "--ppid", String(pid)], { encoding: "utf8" })
      .split("\n")
      .map((s) => Number(s.trim()))
      .filter(Boolean);
  } catch {
    // no children
  }
  for (const child of children) killTree(child);
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // already gone
  }
}

async function startServer() {
  const vars = LIMITS.flatMap((v) => ["--var", v]);
  server = spawn(
    process.execPath,
    [WRANGLER, "dev", "--port", String(PORT), "--persist-to", state, ...vars],
    {
      stdio: "ignore",
      env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    },
  );
  for (let i = 0; i < 120; i++) {
    if (
      await fetch(`${BASE}/health`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    await sleep(500);
  }
  fail("server did not start");
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
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
  });
  if (!res.ok) fail(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** A socket joined to a booking; frames are collected, `waitFor` awaits a condition on them. */
async function joinedSocket(bookingId, token, chatToken, sinceSeq) {
  const ws = new WebSocket(`ws://127.0.0.1:${PORT}/bookings/${bookingId}/ws`, [
    "spana-chat.v1",
    `bearer.${token}`,
  ]);
  const frames = [];
  const listeners = new Set();
  ws.onmessage = (e) => {
    frames.push(JSON.parse(e.data));
    for (const listener of listeners) listener();
  };
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error("socket failed"));
  });
  const waitFor = (predicate, ms = 10_000) =>
    new Promise((resolve, reject) => {
      const check = () => {
        if (!predicate(frames)) return;
        listeners.delete(check);
        clearTimeout(timer);
        resolve(frames);
      };
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(new Error("timed out waiting for frames"));
      }, ms);
      listeners.add(check);
      check();
    });
  const data = { bookingId, chatToken, ...(sinceSeq === undefined ? {} : { sinceSeq }) };
  ws.send(JSON.stringify({ event: "join-booking", data }));
  await waitFor((f) => f.some((x) => x.event === "booking-joined"));
  return { ws, frames, waitFor };
}

async function setUp(admin, index) {
  const customer = { id: `crash-c${index}`, jwt: await jwt("customer", `crash-c${index}`) };
  const provider = { id: `crash-p${index}`, jwt: await jwt("service_provider", `crash-p${index}`) };
  const { booking } = await call("POST", "/bookings", customer.jwt, { providerId: provider.id });
  await call("POST", `/bookings/${booking.id}/payment`, admin);
  provider.chatToken = (await call("POST", `/bookings/${booking.id}/accept`, provider.jwt)).chatToken;
  customer.chatToken = (await call("GET", `/chat/booking/${booking.id}/token`, customer.jwt)).chatToken;
  return { id: booking.id, index, parties: [customer, provider] };
}

/** Sends paced messages from one party until stopped; records what it sent. */
function drive(booking, party, role, sent) {
  let n = 0;
  const timer = setInterval(() => {
    const clientMessageId = `${role}-${booking.index}-${n++}`;
    sent.push({ bookingId: booking.id, clientMessageId });
    const data = {
      bookingId: booking.id,
      chatToken: party.chatToken,
      message: `m ${clientMessageId}`,
      clientMessageId,
    };
    try {
      party.socket.ws.send(JSON.stringify({ event: "booking-chat", data }));
    } catch {
      // The runtime is gone; this send was never acknowledged.
    }
  }, 25);
  return () => clearInterval(timer);
}

function acknowledged(booking, party) {
  const mine = new Set();
  return party.socket.frames
    .filter((f) => f.event === "booking-chat" && f.data.senderId === party.id && f.data.clientMessageId)
    .filter((f) => !mine.has(f.data.clientMessageId) && mine.add(f.data.clientMessageId))
    .map((f) => ({ ...f.data, bookingId: booking.id }));
}

async function history(bookingId, admin) {
  const messages = [];
  for (let after = 0; ; ) {
    const page = await call("GET", `/chat/booking/${bookingId}?after=${after}&limit=100`, admin);
    messages.push(...page.messages);
    if (page.messages.length < 100) return messages;
    after = page.messages.at(-1).seq;
  }
}

async function main() {
  execFileSync(
    process.execPath,
    [WRANGLER, "d1", "migrations", "apply", "DB", "--local", "--persist-to", state],
    {
      stdio: "ignore",
    },
  );
  await startServer();
  const admin = await jwt("admin", "crash-admin");
  const bookings = [];
  for (let i = 0; i < BOOKINGS; i++) bookings.push(await setUp(admin, i));
  for (const b of bookings) {
    for (const party of b.parties) party.socket = await joinedSocket(b.id, party.jwt, party.chatToken);
  }

  const sent = [];
  const stops = bookings.flatMap((b) => b.parties.map((p, i) => drive(b, p, i === 0 ? "c" : "p", sent)));
  await sleep(2_000 + Math.random() * 1_000);
  killTree(server.pid); // SIGKILL mid-traffic
  server = null;
  for (const stop of stops) stop();
  const acks = bookings.flatMap((b) => b.parties.flatMap((p) => acknowledged(b, p)));
  for (const b of bookings) for (const p of b.parties) p.socket.ws.close();

  await startServer();
  let stored = 0;
  let missing = 0;
  let duplicates = 0;
  let gaps = 0;
  let resumeMismatches = 0;
  let resendMismatches = 0;
  for (const b of bookings) {
    const messages = await history(b.id, admin);
    stored += messages.length;
    const seqs = messages.map((m) => m.seq);
    if (seqs.some((seq, i) => seq !== i + 1)) gaps++;
    const byClientId = new Map();
    for (const m of messages) byClientId.set(m.clientMessageId, (byClientId.get(m.clientMessageId) ?? 0) + 1);
    duplicates += [...byClientId.values()].filter((count) => count > 1).length;
    for (const ack of acks.filter((a) => a.bookingId === b.id)) {
      const found = messages.filter((m) => m.id === ack.id);
      if (found.length !== 1 || found[0].seq !== ack.seq || found[0].clientMessageId !== ack.clientMessageId)
        missing++;
    }

    // Each party resumes from zero and must see exactly the history, in order.
    const [customer] = b.parties;
    const resumed = await joinedSocket(b.id, customer.jwt, customer.chatToken, 0);
    await resumed.waitFor((f) => f.filter((x) => x.event === "booking-chat").length >= messages.length);
    const replay = resumed.frames.filter((x) => x.event === "booking-chat").map((x) => x.data.id);
    if (replay.join() !== messages.map((m) => m.id).join()) resumeMismatches++;

    // Resending acknowledged messages gets the stored copy back and stores nothing.
    for (const ack of acks.filter((a) => a.bookingId === b.id && a.senderId === customer.id).slice(0, 3)) {
      const data = {
        bookingId: b.id,
        chatToken: customer.chatToken,
        message: "resend",
        clientMessageId: ack.clientMessageId,
      };
      const before = resumed.frames.length;
      resumed.ws.send(JSON.stringify({ event: "booking-chat", data }));
      await resumed.waitFor((f) => f.length > before);
      const reply = resumed.frames[before];
      if (reply.event !== "booking-chat" || reply.data.id !== ack.id || reply.data.seq !== ack.seq)
        resendMismatches++;
    }
    if ((await history(b.id, admin)).length !== messages.length) resendMismatches++;
    resumed.ws.close();
  }

  console.log(
    `bookings ${BOOKINGS}, sent ${sent.length}, acknowledged ${acks.length}, stored ${stored}, ` +
      `acknowledged-but-missing ${missing}, duplicates ${duplicates}, gaps ${gaps}, ` +
      `resume mismatches ${resumeMismatches}, resend mismatches ${resendMismatches}`,
  );
  const ok = acks.length > 0 && missing + duplicates + gaps + resumeMismatches + resendMismatches === 0;
  console.log(ok ? "PASS" : "FAIL");
  clearTimeout(hardStop);
  cleanup();
  process.exit(ok ? 0 : 1);
}

main().catch((error) => fail(error instanceof Error ? error.stack : String(error)));
