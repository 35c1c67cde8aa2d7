import { env, exports } from "cloudflare:workers";
import { sioHubStub } from "../../src/delivery/targets";
import { HUB_HEADER } from "../../src/socket-io/hub";
import { BASE_URL } from "./api";

const DEFAULT_WAIT_MS = 5_000;

/**
 * A Socket.IO connection spoken by hand, packet by packet (Engine.IO 4 text frames), for what the
 * real socket.io-client never sends: pipelined packets, other namespaces, odd ack ids, floods.
 * The tests in test/node/ use the real client.
 */
export class RawSocketIo {
  readonly packets: string[] = [];
  closed: CloseEvent | null = null;
  private consumed = 0;
  private waiters: (() => void)[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.addEventListener("message", (event) => {
      this.packets.push(String(event.data));
      this.wake();
    });
    ws.addEventListener("close", (event) => {
      this.closed = event;
      this.wake();
    });
  }

  /**
   * Opens `/socket.io/` as socket.io-client does with `transports: ["websocket"]`; the handshake is
   * consumed. `onHub`: straight to that hub, as the Worker does when its random pick was that one.
   */
  static async open(onHub?: number): Promise<RawSocketIo> {
    const url = `${BASE_URL}/socket.io/?EIO=4&transport=websocket`;
    const response =
      onHub === undefined
        ? await exports.default.fetch(url, { headers: { Upgrade: "websocket" } })
        : await sioHubStub(env, onHub).fetch(url, {
            headers: { Upgrade: "websocket", [HUB_HEADER]: String(onHub) },
          });
    const ws = response.webSocket;
    if (!ws) throw new Error(`upgrade refused: ${response.status}`);
    ws.accept();
    const socket = new RawSocketIo(ws);
    const open = await socket.next((p) => p.startsWith("0{"));
    if (!open) throw new Error("no Engine.IO handshake");
    return socket;
  }

  /** Opens and logs in with `jwt`; resolves once the server answered the CONNECT. */
  static async connect(jwt: string, onHub?: number): Promise<RawSocketIo> {
    const socket = await RawSocketIo.open(onHub);
    const answer = await socket.login(jwt);
    if (!answer.startsWith("40")) throw new Error(`login refused: ${answer}`);
    return socket;
  }

  /** Sends CONNECT with `auth: {token}`; resolves with the answer (`40{...}` or `44{...}`). */
  login(jwt: string, nsp = ""): Promise<string> {
    this.send(`40${nsp}${JSON.stringify({ token: jwt })}`);
    return this.next((p) => p.startsWith(`40${nsp}`) || p.startsWith(`44${nsp}`) || p.startsWith("44"));
  }

  send(packet: string): void {
    this.ws.send(packet);
  }

  /** `socket.emit(event, data, ack)` as a packet: `42<ackId>["event",data]`. */
  emit(event: string, data: unknown, ackId?: number): void {
    this.send(`42${ackId ?? ""}${JSON.stringify([event, data])}`);
  }

  /** Emits with an acknowledgement id and resolves with what the server acknowledged. */
  async emitWithAck(event: string, data: unknown, ackId: number): Promise<unknown> {
    this.emit(event, data, ackId);
    const packet = await this.next((p) => p.startsWith(`43${ackId}[`));
    return (JSON.parse(packet.slice(`43${ackId}`.length)) as unknown[])[0];
  }

  /** Waits until `check` holds for the packets heard so far (consumed or not). */
  async until(check: (packets: string[]) => boolean, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check(this.packets)) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`timed out; heard ${this.packets.slice(-5).join(" | ")}`);
      await this.activity(remaining);
    }
  }

  /** The acknowledgement of `ackId`, once heard, parsed. */
  ack(ackId: number): unknown {
    const packet = this.packets.find((p) => p.startsWith(`43${ackId}[`));
    return packet === undefined ? undefined : (JSON.parse(packet.slice(`43${ackId}`.length)) as unknown[])[0];
  }

  /** Every `name` event heard so far, its first argument parsed. */
  events(name: string): unknown[] {
    const prefix = `42[${JSON.stringify(name)},`;
    return this.packets
      .filter((p) => p.startsWith(prefix))
      .map((p) => (JSON.parse(p.slice(2)) as unknown[])[1]);
  }

  /** The next packet not yet consumed that `match` accepts (earlier ones are consumed too). */
  async next(match: (packet: string) => boolean = () => true, timeoutMs = DEFAULT_WAIT_MS): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.consumed < this.packets.length) {
        const packet = this.packets[this.consumed++] as string;
        if (match(packet)) return packet;
      }
      if (this.closed) throw new Error(`closed (${this.closed.code} ${this.closed.reason}) while waiting`);
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`timed out; heard ${this.packets.slice(-5).join(" | ")}`);
      await this.activity(remaining);
    }
  }

  /** Resolves with the close event, or rejects if the socket is still open after `timeoutMs`. */
  async whenClosed(timeoutMs = DEFAULT_WAIT_MS): Promise<CloseEvent> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error("still open");
      await this.activity(remaining);
    }
    return this.closed;
  }

  close(): void {
    try {
      this.ws.close(1000, "test done");
    } catch {
      // Already closed.
    }
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }

  private activity(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
