// The client side of the benchmark: bookings made through the real HTTP flow, and the sockets of
// their two parties, for our service; plain rooms for the baseline. Both expose the same shape to the
// load harness: rooms of two parties whose `send` puts one chat frame on the wire.
import { readFileSync } from "node:fs";
import { SignJWT } from "jose";

const DEV_VARS = readFileSync(new URL("../../.dev.vars", import.meta.url), "utf8");
const JWT_SECRET = new TextEncoder().encode(/^JWT_SECRET="?([^"\n]+)"?/m.exec(DEV_VARS)?.[1] ?? "");
const TIMEOUT_MS = 30_000;

export const userJwt = (role, sub) =>
  new SignJWT({ role })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(sub)
    .setExpirationTime("2h")
    .sign(JWT_SECRET);

export async function call(base, method, path, token, body) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** An open socket; every text frame goes to `conn.onFrame(text, receivedAt)`. */
export function openSocket(url, protocols) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols);
    const conn = { ws, onFrame: () => {}, send: (text) => ws.send(text), close: () => ws.close() };
    const timer = setTimeout(() => reject(new Error(`socket ${url} did not open`)), TIMEOUT_MS);
    ws.onmessage = (e) => conn.onFrame(e.data, performance.now());
    ws.onopen = () => {
      clearTimeout(timer);
      resolve(conn);
    };
    ws.onerror = () => {
      clearTimeout(timer);
      reject(new Error(`socket ${url} failed`));
    };
  });
}

/** Resolves with the first frame `pick` accepts (or rejects on a chat-error). */
function nextFrame(conn, pick) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no answer on socket")), TIMEOUT_MS);
    conn.onFrame = (text) => {
      const frame = JSON.parse(text);
      if (frame.event === "chat-error")
        reject(new Error(`chat-error ${frame.data.code}: ${frame.data.message}`));
      else if (!pick(frame)) return;
      clearTimeout(timer);
      conn.onFrame = () => {};
      resolve(frame);
    };
  });
}

const chatFrame = (bookingId, chatToken, clientMessageId, message) =>
  JSON.stringify({ event: "booking-chat", data: { bookingId, chatToken, message, clientMessageId } });

/** Our service: admin and per-booking users sign in with JWTs; bookings go created, paid, accepted. */
export function serviceClients(runtime, runId) {
  const adminJwt = userJwt("admin", `bench-admin-${runId}`);

  /** A booking through the real flow, with both parties' chat tokens. */
  async function createBooking(index) {
    const admin = await adminJwt;
    const customer = { userId: `bench-${runId}-c${index}` };
    const provider = { userId: `bench-${runId}-p${index}` };
    customer.jwt = await userJwt("customer", customer.userId);
    provider.jwt = await userJwt("service_provider", provider.userId);
    const { booking } = await call(runtime.http, "POST", "/bookings", customer.jwt, {
      providerId: provider.userId,
    });
    await call(runtime.http, "POST", `/bookings/${booking.id}/payment`, admin);
    provider.chatToken = (
      await call(runtime.http, "POST", `/bookings/${booking.id}/accept`, provider.jwt)
    ).chatToken;
    customer.chatToken = (
      await call(runtime.http, "GET", `/chat/booking/${booking.id}/token`, customer.jwt)
    ).chatToken;
    return { id: booking.id, parties: [customer, provider] };
  }

  /** Upgrade (JWT checked) and join (chat token checked): a party ready to chat. */
  async function connect(booking, party) {
    const conn = await openSocket(`${runtime.ws}/bookings/${booking.id}/ws`, [
      "spana-chat.v1",
      `bearer.${party.jwt}`,
    ]);
    const joined = nextFrame(conn, (f) => f.event === "booking-joined");
    conn.send(
      JSON.stringify({ event: "join-booking", data: { bookingId: booking.id, chatToken: party.chatToken } }),
    );
    await joined;
    party.conn = conn;
    party.send = (clientMessageId, message) =>
      conn.send(chatFrame(booking.id, party.chatToken, clientMessageId, message));
  }

  return {
    createBooking,
    connect,
    async connectRoom(index) {
      const booking = await createBooking(index);
      for (const party of booking.parties) await connect(booking, party);
      return booking;
    },
    /** The admin feed: every booking's messages, one socket per shard, heard as one connection. */
    async connectAdminFeed() {
      const admin = await adminJwt;
      const { sockets } = await call(runtime.http, "GET", "/admin/feed", admin);
      const shards = await Promise.all(
        sockets.map((path) => openSocket(`${runtime.ws}${path}`, ["spana-chat.v1", `bearer.${admin}`])),
      );
      const feed = {
        set onFrame(handler) {
          for (const shard of shards) shard.onFrame = handler;
        },
        close: () => {
          for (const shard of shards) shard.close();
        },
      };
      return feed;
    },
  };
}

/**
 * The seed's apps over Socket.IO (/socket.io/): one connection per user, JWT in the CONNECT packet,
 * `join-booking` and `booking-chat` as events. The framing is written here by hand, byte for byte
 * what socket.io-client puts on the wire (test/node/socket-io.test.ts runs the real client), so the
 * harness's share of the two cores stays what it is for the native protocol. Frames reach
 * `conn.onFrame` in the native shape, so the load harness is the same.
 */
export function socketIoClients(runtime, runId) {
  const service = serviceClients(runtime, runId);
  const adminJwt = userJwt("admin", `bench-sio-admin-${runId}`);

  async function connectUser(jwt) {
    const conn = await openSocket(`${runtime.ws}/socket.io/?EIO=4&transport=websocket`);
    const ready = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no Socket.IO CONNECT answer")), TIMEOUT_MS);
      conn.onPacket = (text) => {
        if (text.startsWith("0{")) conn.send(`40${JSON.stringify({ token: jwt })}`);
        else if (text.startsWith("40")) {
          clearTimeout(timer);
          resolve();
        } else if (text.startsWith("44")) reject(new Error(`Socket.IO connect error: ${text}`));
      };
    });
    conn.ws.onmessage = (e) => {
      const text = e.data;
      if (text === "2") return conn.send("3");
      // 42["event",data]: handed on as {"event":"event","data":data} without parsing the data.
      if (text.startsWith('42["')) {
        const end = text.indexOf('",', 4);
        return conn.onFrame(
          `{"event":"${text.slice(4, end)}","data":${text.slice(end + 2, -1)}}`,
          performance.now(),
        );
      }
      conn.onPacket(text);
    };
    await ready;
    conn.emit = (event, data) => conn.send(`42${JSON.stringify([event, data])}`);
    return conn;
  }

  async function connect(booking, party) {
    const conn = await connectUser(party.jwt);
    const joined = nextFrame(conn, (f) => f.event === "booking-joined");
    conn.emit("join-booking", { bookingId: booking.id, chatToken: party.chatToken });
    await joined;
    party.conn = conn;
    party.send = (clientMessageId, message) =>
      conn.emit("booking-chat", {
        bookingId: booking.id,
        chatToken: party.chatToken,
        message,
        clientMessageId,
      });
  }

  return {
    createBooking: service.createBooking,
    connect,
    async connectRoom(index) {
      const booking = await service.createBooking(index);
      for (const party of booking.parties) await connect(booking, party);
      return booking;
    },
    /** An admin's connection watching every booking (`watch-feed`), as the native admin feed. */
    async connectAdminFeed() {
      const conn = await connectUser(await adminJwt);
      const acked = new Promise((resolve) => {
        conn.onPacket = (text) => text.startsWith("430") && resolve();
      });
      conn.send(`420${JSON.stringify(["watch-feed", {}])}`);
      await acked;
      return conn;
    },
  };
}

/**
 * A yardstick: two sockets per room, frames the same size as ours (a token-sized field included);
 * `durable` picks the twin that writes each frame to SQLite before relaying it; `watched` adds a third
 * socket per room that only listens, heard together as the "admin feed", so the relay sends as many
 * frames per message as ours.
 */
export function baselineClients(runtime, { durable = false, watched = false } = {}) {
  const filler = "x".repeat(160);
  const kind = durable ? "durable-rooms" : "rooms";
  const watchers = [];
  async function connect(room, party) {
    party.conn = await openSocket(`${runtime.ws}/${kind}/${room.id}/ws`);
    party.send = (clientMessageId, message) =>
      party.conn.send(chatFrame(room.id, filler, clientMessageId, message));
  }
  return {
    connect,
    async createBooking(index) {
      return { id: `room-${index}`, parties: [{ userId: `bc${index}` }, { userId: `bp${index}` }] };
    },
    async connectRoom(index) {
      const room = await this.createBooking(index);
      for (const party of room.parties) await connect(room, party);
      if (watched) watchers.push(await openSocket(`${runtime.ws}/${kind}/${room.id}/ws`));
      return room;
    },
    connectAdminFeed: async () =>
      watched
        ? {
            set onFrame(handler) {
              for (const watcher of watchers) watcher.onFrame = handler;
            },
            close: () => {
              for (const watcher of watchers) watcher.close();
            },
          }
        : null,
  };
}

/** Runs `task(i)` for i in 0..count-1 with at most `concurrency` at once; returns results in order. */
export async function pool(count, concurrency, task) {
  const results = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      results[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(count, concurrency) }, worker));
  return results;
}
