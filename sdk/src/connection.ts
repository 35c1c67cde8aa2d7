import {
  CloseCode,
  PING_FRAME,
  type ServerEvent,
  ServerEvent as ServerEventSchema,
} from "../../src/protocol";
import { NoWebSocketError, type OpenSocket, type SocketLike } from "./transport";

export type ConnectionStatus = "connecting" | "open" | "offline" | "stopped";

export type ConnectionOptions = {
  url: string;
  getToken: () => Promise<string>;
  /** Null when the runtime has no WebSocket and none was passed: starting then throws. */
  open: OpenSocket | null;
  /** Called on every (re)connect, before anything else is sent; joins and resumes go here. */
  onOpen: (send: (frame: string) => void) => void;
  onFrame: (frame: ServerEvent) => void;
  onStatus?: (status: ConnectionStatus) => void;
  backoff?: { initialMs: number; maxMs: number };
  heartbeat?: { intervalMs: number; timeoutMs: number };
};

const SUBPROTOCOL = "spana-chat.v1";
/** Enough doublings of any initial delay to reach the ceiling. */
const LONGEST_BACKOFF_ATTEMPT = 16;

/**
 * One logical connection that survives network loss: reconnects with jittered exponential
 * backoff, asks `getToken` for a JWT on every attempt (so an expired one is replaced), watches the
 * heartbeat, and stops for good on terminal close codes.
 */
export class Connection {
  private socket: SocketLike | null = null;
  private attempt = 0;
  private stopped = false;
  private timers: ReturnType<typeof setTimeout>[] = [];
  private lastHeard = 0;

  constructor(private readonly options: ConnectionOptions) {}

  /** Starts connecting; throws NoWebSocketError at once when there is no WebSocket to connect with. */
  start(): void {
    this.assertCanOpen();
    this.stopped = false;
    void this.connect();
  }

  assertCanOpen(): void {
    if (!this.options.open) throw new NoWebSocketError();
  }

  /** Stops for good: no more reconnects. */
  stop(): void {
    this.stopped = true;
    this.clearTimers();
    this.socket?.close(CloseCode.normal, "client stopped");
    this.socket = null;
    this.options.onStatus?.("stopped");
  }

  /** Sends now if connected; returns false when offline (callers keep the frame for later). */
  send(frame: string): boolean {
    if (!this.socket) return false;
    try {
      this.socket.send(frame);
      return true;
    } catch {
      // The socket is closing; its close handler will reconnect.
      return false;
    }
  }

  /** Drops the current socket and reconnects, as after a network loss. */
  reconnect(): void {
    const socket = this.socket;
    if (!socket) return;
    this.socket = null;
    this.clearTimers();
    try {
      socket.close(CloseCode.normal, "reconnecting");
    } catch {
      // Already closed.
    }
    this.retry();
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    this.options.onStatus?.("connecting");
    let socket: SocketLike;
    try {
      const token = await this.options.getToken();
      if (!this.options.open) throw new NoWebSocketError();
      socket = await this.options.open(this.options.url, [SUBPROTOCOL, `bearer.${token}`]);
    } catch {
      return this.retry();
    }
    if (this.stopped) return socket.close(CloseCode.normal, "client stopped");
    this.socket = socket;
    this.attempt = 0;
    this.lastHeard = Date.now();
    socket.addEventListener("message", (event) => this.receive(event.data));
    socket.addEventListener("close", (event) => this.closed(socket, event.code));
    this.options.onStatus?.("open");
    this.options.onOpen((frame) => socket.send(frame));
    this.startHeartbeat(socket);
  }

  private receive(data: unknown): void {
    this.lastHeard = Date.now();
    if (typeof data !== "string") return;
    let json: unknown;
    try {
      json = JSON.parse(data);
    } catch {
      return;
    }
    const frame = ServerEventSchema.safeParse(json);
    if (frame.success) this.options.onFrame(frame.data);
  }

  private closed(socket: SocketLike, code: number): void {
    if (this.socket !== socket) return;
    this.socket = null;
    this.clearTimers();
    if (this.stopped) return;
    // 1008 and 4xxx mean retrying cannot help, except 4401 (expired JWT: a new one is fetched) and
    // 4429 (too many frames: back after the longest pause).
    if (code === CloseCode.tooManyFrames) this.attempt = Math.max(this.attempt, LONGEST_BACKOFF_ATTEMPT);
    else if (
      code === CloseCode.policyViolation ||
      (code >= 4000 && code < 5000 && code !== CloseCode.jwtExpired)
    ) {
      this.stop();
      return;
    }
    this.retry();
  }

  private retry(): void {
    if (this.stopped) return;
    this.options.onStatus?.("offline");
    const { initialMs, maxMs } = this.options.backoff ?? { initialMs: 250, maxMs: 10_000 };
    const ceiling = Math.min(maxMs, initialMs * 2 ** this.attempt);
    this.attempt++;
    // Full jitter, so a fleet of clients does not reconnect in lockstep after an outage.
    const delay = Math.random() * ceiling;
    this.timers.push(setTimeout(() => void this.connect(), delay));
  }

  private startHeartbeat(socket: SocketLike): void {
    const { intervalMs, timeoutMs } = this.options.heartbeat ?? { intervalMs: 25_000, timeoutMs: 10_000 };
    const beat = () => {
      if (this.socket !== socket) return;
      if (Date.now() - this.lastHeard > intervalMs + timeoutMs) {
        socket.close(CloseCode.normal, "heartbeat lost");
        this.closed(socket, 1006);
        return;
      }
      socket.send(PING_FRAME);
      this.timers.push(setTimeout(beat, intervalMs));
    };
    this.timers.push(setTimeout(beat, intervalMs));
  }

  private clearTimers(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers = [];
  }
}
