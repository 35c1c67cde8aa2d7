import { exports } from "cloudflare:workers";
import {
  AdminFeedResponse,
  type ServerEvent,
  type ServerEventName,
  type ServerEventPayload,
  ServerEvent as ServerEventSchema,
  serverEventData,
} from "../../src/protocol";
import { api, BASE_URL } from "./api";
import type { TestUser } from "./users";

const DEFAULT_WAIT_MS = 5_000;

/** Events that say who is here and typing, not what happened: best-effort, never stored. */
const LIVE_EVENTS: ReadonlySet<string> = new Set(["typing", "presence"]);

/**
 * A real WebSocket to a booking room, with awaitable, schema-checked events. It may also be
 * several sockets heard as one (the admin feed's shards): frames of all go to one list.
 */
export class TestSocket {
  readonly received: ServerEvent[] = [];
  private consumed = 0;
  private waiters: (() => void)[] = [];
  closed: CloseEvent | null = null;
  readonly sockets: WebSocket[];

  constructor(ws: WebSocket | WebSocket[]) {
    this.sockets = Array.isArray(ws) ? ws : [ws];
    for (const socket of this.sockets) {
      socket.addEventListener("message", (event) => {
        const parsed = ServerEventSchema.parse(JSON.parse(String(event.data)));
        this.received.push(parsed);
        this.wake();
      });
      socket.addEventListener("close", (event) => {
        this.closed = event;
        this.wake();
      });
    }
  }

  get ws(): WebSocket {
    const first = this.sockets[0];
    if (!first) throw new Error("no socket");
    return first;
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }

  /** Resolves on the next frame or close, or after `ms`. */
  private activity(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  send(event: string, data: unknown): void {
    this.ws.send(JSON.stringify({ event, data }));
  }

  sendRaw(frame: string | ArrayBuffer): void {
    this.ws.send(frame);
  }

  /**
   * The next not-yet-consumed frame, whatever its event. Live events (typing, presence) come
   * whenever someone types, joins or leaves; they are passed over unless `live` names them
   * (expect("presence") does), so a test about something else does not see them.
   */
  async next(timeoutMs = DEFAULT_WAIT_MS, live?: string): Promise<ServerEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.consumed >= this.received.length) {
        if (this.closed) throw new Error(`socket closed (${this.closed.code}) while waiting for a frame`);
        const remaining = deadline - Date.now();
        if (remaining <= 0) throw new Error("timed out waiting for a frame");
        await this.activity(remaining);
      }
      const frame = this.received[this.consumed];
      this.consumed++;
      if (!frame) throw new Error("unreachable");
      if (!LIVE_EVENTS.has(frame.event) || frame.event === live) return frame;
    }
  }

  /** The next frame, which must be `event`; returns its data. */
  async expect<K extends ServerEventName>(
    event: K,
    timeoutMs = DEFAULT_WAIT_MS,
  ): Promise<ServerEventPayload<K>> {
    const frame = await this.next(timeoutMs, event);
    if (frame.event !== event) {
      throw new Error(`expected ${event}, got ${frame.event}: ${JSON.stringify(frame.data)}`);
    }
    return serverEventData[event].parse(frame.data) as ServerEventPayload<K>;
  }

  /** Frames not consumed yet (live events aside); tests use it to prove nothing unexpected arrived. */
  pending(): ServerEvent[] {
    return this.received.slice(this.consumed).filter((f) => !LIVE_EVENTS.has(f.event));
  }

  /**
   * Waits until every frame the server sent before this call has arrived: the room answers
   * frames in order, so the answer to an unknown event comes after all of them (on every socket).
   */
  async barrier(timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    const marker = `barrier-${crypto.randomUUID()}`;
    for (const socket of this.sockets) socket.send(JSON.stringify({ event: marker, data: {} }));
    const deadline = Date.now() + timeoutMs;
    let answered = 0;
    for (;;) {
      const index = this.received.findIndex(
        (f) => f.event === "chat-error" && f.data.message.includes(marker),
      );
      if (index >= 0) {
        this.received.splice(index, 1);
        if (index < this.consumed) this.consumed--;
        if (++answered === this.sockets.length) return;
        continue;
      }
      if (this.closed) throw new Error("socket closed while waiting for the barrier");
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error("timed out waiting for the barrier");
      await this.activity(remaining);
    }
  }

  /** Every received frame of one event, consumed or not. */
  all<K extends ServerEventName>(event: K): ServerEventPayload<K>[] {
    return this.received
      .filter((f) => f.event === event)
      .map((f) => serverEventData[event].parse(f.data) as ServerEventPayload<K>);
  }

  close(): void {
    for (const socket of this.sockets) {
      try {
        socket.close(1000, "test done");
      } catch {
        // already closed
      }
    }
  }
}

export type ConnectOptions = { via?: "header" | "subprotocol"; jwt?: string; protocols?: string[] };

/** Opens `GET /bookings/:id/ws` as `user`; returns the HTTP response when the upgrade is refused. */
export async function openSocket(
  bookingId: string,
  user: TestUser | null,
  options: ConnectOptions = {},
): Promise<{ socket: TestSocket | null; response: Response }> {
  return openSocketAt(`/bookings/${bookingId}/ws`, user, options);
}

/** Opens any of the service's sockets (`/bookings/:id/ws`, `/me/ws`, `/admin/ws`). */
export async function openSocketAt(
  path: string,
  user: TestUser | null,
  options: ConnectOptions = {},
): Promise<{ socket: TestSocket | null; response: Response }> {
  const headers = new Headers({ Upgrade: "websocket" });
  const jwt = options.jwt ?? user?.jwt;
  if (options.protocols) headers.set("Sec-WebSocket-Protocol", options.protocols.join(", "));
  else if (jwt && options.via === "subprotocol")
    headers.set("Sec-WebSocket-Protocol", `spana-chat.v1, bearer.${jwt}`);
  else if (jwt) headers.set("Authorization", `Bearer ${jwt}`);
  const response = await exports.default.fetch(`${BASE_URL}${path}`, { headers });
  const ws = response.webSocket;
  if (!ws) return { socket: null, response };
  ws.accept();
  return { socket: new TestSocket(ws), response };
}

export async function connect(
  bookingId: string,
  user: TestUser,
  options: ConnectOptions = {},
): Promise<TestSocket> {
  const { socket, response } = await openSocket(bookingId, user, options);
  if (!socket) throw new Error(`upgrade refused: ${response.status} ${await response.text()}`);
  return socket;
}

/** Connects and joins; returns the socket with `booking-joined` consumed. */
export async function joined(bookingId: string, user: TestUser, chatToken?: string): Promise<TestSocket> {
  const socket = await connect(bookingId, user);
  socket.send("join-booking", chatToken === undefined ? { bookingId } : { bookingId, chatToken });
  await socket.expect("booking-joined");
  return socket;
}

/** The user's inbox socket, `/me/ws`. */
export async function inbox(user: TestUser): Promise<TestSocket> {
  const { socket, response } = await openSocketAt("/me/ws", user);
  if (!socket) throw new Error(`inbox upgrade refused: ${response.status} ${await response.text()}`);
  return socket;
}

/** The whole admin feed: one socket per shard (`GET /admin/feed` lists them), heard as one. */
export async function adminFeed(admin: TestUser): Promise<TestSocket> {
  const { sockets } = AdminFeedResponse.parse((await api("GET", "/admin/feed", { jwt: admin.jwt })).body);
  const shards: WebSocket[] = [];
  for (const path of sockets) {
    const { socket, response } = await openSocketAt(path, admin);
    if (!socket) throw new Error(`feed upgrade refused: ${response.status} ${await response.text()}`);
    shards.push(socket.ws);
  }
  return new TestSocket(shards);
}
