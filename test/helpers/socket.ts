import { exports } from "cloudflare:workers";
import {
  type ServerEvent,
  type ServerEventName,
  type ServerEventPayload,
  ServerEvent as ServerEventSchema,
  serverEventData,
} from "../../src/protocol";
import { BASE_URL } from "./api";
import type { TestUser } from "./users";

const DEFAULT_WAIT_MS = 5_000;

/** A real WebSocket to a booking room, with awaitable, schema-checked events. */
export class TestSocket {
  readonly received: ServerEvent[] = [];
  private consumed = 0;
  private waiters: (() => void)[] = [];
  closed: CloseEvent | null = null;

  constructor(readonly ws: WebSocket) {
    ws.addEventListener("message", (event) => {
      const parsed = ServerEventSchema.parse(JSON.parse(String(event.data)));
      this.received.push(parsed);
      this.wake();
    });
    ws.addEventListener("close", (event) => {
      this.closed = event;
      this.wake();
    });
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

  /** The next not-yet-consumed frame, whatever its event. */
  async next(timeoutMs = DEFAULT_WAIT_MS): Promise<ServerEvent> {
    const deadline = Date.now() + timeoutMs;
    while (this.consumed >= this.received.length) {
      if (this.closed) throw new Error(`socket closed (${this.closed.code}) while waiting for a frame`);
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error("timed out waiting for a frame");
      await this.activity(remaining);
    }
    const frame = this.received[this.consumed];
    this.consumed++;
    if (!frame) throw new Error("unreachable");
    return frame;
  }

  /** The next frame, which must be `event`; returns its data. */
  async expect<K extends ServerEventName>(
    event: K,
    timeoutMs = DEFAULT_WAIT_MS,
  ): Promise<ServerEventPayload<K>> {
    const frame = await this.next(timeoutMs);
    if (frame.event !== event) {
      throw new Error(`expected ${event}, got ${frame.event}: ${JSON.stringify(frame.data)}`);
    }
    return serverEventData[event].parse(frame.data) as ServerEventPayload<K>;
  }

  /** Frames not consumed yet; tests use it to prove nothing unexpected arrived. */
  pending(): ServerEvent[] {
    return this.received.slice(this.consumed);
  }

  /**
   * Waits until every frame the server sent before this call has arrived: the room answers
   * frames in order, so the answer to an unknown event comes after all of them.
   */
  async barrier(timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    const marker = `barrier-${crypto.randomUUID()}`;
    this.send(marker, {});
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.received.findIndex(
        (f) => f.event === "chat-error" && f.data.message.includes(marker),
      );
      if (index >= 0) {
        this.received.splice(index, 1);
        return;
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
    try {
      this.ws.close(1000, "test done");
    } catch {
      // already closed
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

/** The admin feed socket, `/admin/ws`. */
export async function adminFeed(admin: TestUser): Promise<TestSocket> {
  const { socket, response } = await openSocketAt("/admin/ws", admin);
  if (!socket) throw new Error(`feed upgrade refused: ${response.status} ${await response.text()}`);
  return socket;
}
