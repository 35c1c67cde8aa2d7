#!/usr/bin/env node
// Measures how fast booking messages reach the other party and the admin feed on a local
// `wrangler dev`: node scripts/measure-feed.mjs [bookings=20] [messagesPerBooking=50]
// Loopback only; starts and stops its own server with throwaway state.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SignJWT } from "jose";

const BOOKINGS = Number(process.argv[2] ?? 20);
const PER_BOOKING = Number(process.argv[3] ?? 50);
const PORT = 8799;
const BASE = `http://127.0.0.1:${PORT}`;
const SECRET = new TextEncoder().encode("spana-dev-jwt-secret-do-not-use-in-production");
const state = mkdtempSync(join(process.env.MEASURE_STATE_DIR ?? tmpdir(), "spana-measure-"));
const wrangler = new URL("../node_modules/wrangler/bin/wrangler.js", import.meta.url).pathname;

function run(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [wrangler, ...args], { stdio: "ignore" });
    child.on("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`wrangler ${args[0]} exited ${code}`)),
    );
  });
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
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

function socket(path, token, onFrame) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${PORT}${path}`, ["spana-chat.v1", `bearer.${token}`]);
    ws.onmessage = (e) => onFrame(JSON.parse(e.data));
    ws.onopen = () => resolve(ws);
    ws.onerror = () => reject(new Error(`socket ${path} failed`));
  });
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

await run(["d1", "migrations", "apply", "DB", "--local", "--persist-to", state]);
const server = spawn(process.execPath, [wrangler, "dev", "--port", String(PORT), "--persist-to", state], {
  stdio: process.env.MEASURE_LOG ? ["ignore", "inherit", "inherit"] : "ignore",
  env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
});
try {
  for (let i = 0; ; i++) {
    if (i > 120) throw new Error("server did not start");
    if (
      await fetch(`${BASE}/health`)
        .then((r) => r.ok)
        .catch(() => false)
    )
      break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const admin = await jwt("admin", "admin-1");
  const sentAt = new Map();
  const partyLatency = [];
  const feedLatency = [];
  let feedCount = 0;
  let partyCount = 0;
  await socket("/admin/ws", admin, (f) => {
    if (f.event !== "booking-chat") return;
    feedCount++;
    feedLatency.push(performance.now() - sentAt.get(f.data.clientMessageId));
  });

  const chats = [];
  for (let b = 0; b < BOOKINGS; b++) {
    const customer = await jwt("customer", `c${b}`);
    const provider = await jwt("service_provider", `p${b}`);
    const { booking } = await call("POST", "/bookings", customer, { providerId: `p${b}` });
    await call("POST", `/bookings/${booking.id}/payment`, admin);
    const { chatToken: providerToken } = await call("POST", `/bookings/${booking.id}/accept`, provider);
    const { chatToken: customerToken } = await call("GET", `/chat/booking/${booking.id}/token`, customer);
    const customerWs = await socket(`/bookings/${booking.id}/ws`, customer, () => {});
    await socket(`/bookings/${booking.id}/ws`, provider, (f) => {
      if (f.event !== "booking-chat") return;
      partyCount++;
      partyLatency.push(performance.now() - sentAt.get(f.data.clientMessageId));
    }).then((ws) =>
      ws.send(
        JSON.stringify({ event: "join-booking", data: { bookingId: booking.id, chatToken: providerToken } }),
      ),
    );
    customerWs.send(
      JSON.stringify({ event: "join-booking", data: { bookingId: booking.id, chatToken: customerToken } }),
    );
    chats.push({ id: booking.id, ws: customerWs, token: customerToken });
  }
  await new Promise((r) => setTimeout(r, 500));

  const total = BOOKINGS * PER_BOOKING;
  const started = performance.now();
  for (let i = 0; i < PER_BOOKING; i++) {
    for (const chat of chats) {
      const clientMessageId = `${chat.id.slice(0, 8)}-${i}`;
      sentAt.set(clientMessageId, performance.now());
      const data = { bookingId: chat.id, chatToken: chat.token, message: "x".repeat(200), clientMessageId };
      chat.ws.send(JSON.stringify({ event: "booking-chat", data }));
    }
  }
  const deadline = Date.now() + 120_000;
  while ((feedCount < total || partyCount < total) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20));
  const seconds = (performance.now() - started) / 1000;
  partyLatency.sort((a, b) => a - b);
  feedLatency.sort((a, b) => a - b);
  const ms = (v) => `${v?.toFixed(1)} ms`;
  console.log(`bookings ${BOOKINGS}, messages ${total} sent as fast as possible`);
  console.log(
    `other party: ${partyCount}/${total} in ${seconds.toFixed(2)} s, p50 ${ms(percentile(partyLatency, 50))}, p99 ${ms(percentile(partyLatency, 99))}`,
  );
  console.log(
    `admin feed:  ${feedCount}/${total}, ${(feedCount / seconds).toFixed(0)} msgs/s, p50 ${ms(percentile(feedLatency, 50))}, p99 ${ms(percentile(feedLatency, 99))}`,
  );
  process.exitCode = feedCount === total && partyCount === total ? 0 : 1;
} finally {
  server.kill("SIGTERM");
  rmSync(state, { recursive: true, force: true });
  setTimeout(() => process.exit(), 500).unref();
}
