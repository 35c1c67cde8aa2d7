import { DurableObject } from "cloudflare:workers";
import type { z } from "zod";
import type { Identity } from "../auth/jwt";
import { getConfig } from "../config";
import { errorResponse, refusal } from "../errors";
import { describeError } from "../log";
import { CloseCode, type ServerEventName, SUBPROTOCOL } from "../protocol";
import { compileAccepts } from "../protocol/fast-check";
import { type Attachment, Attachments, type Peer, type StateCodec, userTag } from "./attachment";
import { type CommandOf, isRefusal, type Outcome, parseCommand, refused } from "./command";
import { sendFrame } from "./encode";
import { type BudgetLimits, FrameBudget } from "./frame-budget";
import { closeIfOverBudget, closeQuietly, misencoded, socketBudget } from "./frames";
import { readIdentity } from "./identity-header";
import type { CommandChecks, Transport } from "./transport";

const COMPILED = new WeakMap<object, CommandChecks>();

type Schemas = Record<string, z.core.$ZodType>;

/** One connection of a socket object: its socket and what its attachment says. */
export type Connection<S> = Attachment<S> & { ws: WebSocket };

/**
 * Before a connection says who it is (Socket.IO's CONNECT), it may send a handful of frames (the
 * login, perhaps a stray ping) and no more.
 */
const ANONYMOUS_BUDGET: BudgetLimits = { perSecond: 1, burst: 3 };

/**
 * The base of every object that holds sockets (booking room, inbox, admin feed shard, Socket.IO
 * hub), in the manner of partyserver's `Server`. It owns the upgrade (the identity the Worker
 * vouches for, or a login on the socket), the socket cap, each frame's way in (the frame budget,
 * UTF-8, the JWT's expiry, decoding by the object's transport, checking the command), closes, the
 * runtime-answered heartbeat, the alarm, and the per-connection state in each socket's
 * attachment. Objects implement hooks and speak in commands, outcomes and server events; the
 * transport frames them. Nothing else touches `getWebSockets()`.
 */
export abstract class SocketServer<S, Commands extends Schemas> extends DurableObject<Env> {
  /** Names the object in logs. */
  protected abstract readonly label: string;
  /** The commands a client may send, by name; an empty record makes the sockets read-only. */
  protected abstract readonly commands: Commands;
  /** Appended to an unknown command's refusal: what this endpoint takes instead. */
  protected readonly served: string = "";
  private readonly budget = new FrameBudget();
  private attachmentStore: Attachments<S> | undefined;

  constructor(
    ctx: DurableObjectState,
    env: Env,
    /** How this object's sockets frame what they say and hear. */
    protected readonly transport: Transport,
  ) {
    super(ctx, env);
    const [request, response] = transport.autoResponse;
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(request, response));
  }

  /** The per-connection state's schema (and how an older attachment reads). */
  protected abstract stateCodec(): StateCodec<S>;

  /** A new connection's state; the upgrade request is there for what the Worker put in it. */
  protected abstract initialState(request: Request): S;

  /** Who may connect, decided before the upgrade: a refusal response, or null to accept. */
  protected admit(_request: Request, _identity: Identity | null): Response | null {
    return null;
  }

  /** A connection just opened (its upgrade is being answered). */
  protected onConnect(_connection: Connection<S>): Promise<void> | void {}

  /** A logged-in connection's command, checked against `commands`; its outcome goes back to it. */
  protected abstract onCommand(
    connection: Connection<S>,
    command: CommandOf<Commands>,
  ): Promise<Outcome> | Outcome;

  /** A login on the socket (Socket.IO's CONNECT), for transports that log in in-band. */
  protected onLogin(_connection: Connection<S>, _nsp: string, _auth: unknown): Promise<void> | void {}

  /** A connection closed (by either side, or dropped without a close). */
  protected onClose(_connection: Connection<S>): Promise<void> | void {}

  protected onAlarm(): Promise<void> | void {}

  // ---- for the objects ----

  /**
   * The logged-in connections `match` picks (with `tag`, narrowed by the runtime first). One whose
   * JWT has expired is closed with 4401 instead, so nothing reaches an identity no longer proven.
   */
  protected connections(match?: (c: Connection<S>) => boolean, tag?: string): Connection<S>[] {
    const found: Connection<S>[] = [];
    const now = Date.now();
    for (const ws of this.ctx.getWebSockets(tag)) {
      const attachment = this.store().read(ws);
      if (!attachment?.peer) continue;
      const connection = { ...attachment, ws };
      if (this.closeIfExpired(connection, now)) continue;
      if (!match || match(connection)) found.push(connection);
    }
    return found;
  }

  /** Every socket the object holds, logged in or not: for heartbeats and deadlines. */
  protected allConnections(): Connection<S>[] {
    const all: Connection<S>[] = [];
    for (const ws of this.ctx.getWebSockets()) {
      const attachment = this.store().read(ws);
      if (attachment) all.push({ ...attachment, ws });
      else closeQuietly(ws, CloseCode.policyViolation, "unknown connection");
    }
    return all;
  }

  /** The connections of one user in one role. */
  protected connectionsOf(who: { userId: string; role: Peer["role"] }): Connection<S>[] {
    return this.connections((c) => c.peer?.role === who.role, userTag(who.userId, who.role));
  }

  /** Sends one event to every connection `match` picks, framed once per transport. */
  protected broadcast(event: ServerEventName, data: string, match?: (c: Connection<S>) => boolean): number {
    const targets = this.connections(match);
    if (targets.length === 0) return 0;
    const frame = this.transport.event(event, data);
    for (const c of targets) sendFrame(c.ws, frame);
    return targets.length;
  }

  /** Sends frames this transport already framed (say, a batch rendered once for many). */
  protected sendFrames(connection: Connection<S>, frames: string[]): void {
    for (const frame of frames) sendFrame(connection.ws, frame);
  }

  protected send(connection: Connection<S>, event: ServerEventName, data: string): void {
    sendFrame(connection.ws, this.transport.event(event, data));
  }

  /** Answers a command (its events, and the acknowledgement where the transport has one). */
  protected answer(connection: Connection<S>, outcome: Outcome, ackId?: number): void {
    this.sendFrames(connection, this.transport.answer(outcome, ackId));
  }

  /** Records a connection's new state (and who is on it) in its attachment. */
  protected update(connection: Connection<S>, change: { state?: S; peer?: Peer | null }): Connection<S> {
    const { ws, ...attachment } = connection;
    const next = { ...(this.store().read(ws) ?? attachment), ...change };
    this.store().write(ws, next);
    return { ...next, ws };
  }

  /** The connection as its attachment says now (another event may have changed it meanwhile). */
  protected current(connection: Connection<S>): Connection<S> {
    const attachment = this.store().read(connection.ws);
    return attachment ? { ...attachment, ws: connection.ws } : connection;
  }

  /** A logged-in connection starts with a full frame budget. */
  protected refillBudget(connection: Connection<S>): void {
    this.budget.reset(connection.ws);
  }

  // ---- the runtime's entry points ----

  override async fetch(request: Request): Promise<Response> {
    let identity: Identity | null = null;
    if (!this.transport.logsInInBand) {
      identity = readIdentity(request);
      if (!identity) return errorResponse(refusal("unauthorized", "Missing caller identity"));
    }
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      const expected = refusal("invalid_request", "Expected a WebSocket upgrade");
      return errorResponse(expected, { status: 426, headers: { Upgrade: "websocket" } });
    }
    const refusalResponse = this.admit(request, identity);
    if (refusalResponse) return refusalResponse;
    if (identity) {
      const { maxSocketsPerUser } = getConfig(this.env).limits;
      if (this.connectionsOf(identity).length >= maxSocketsPerUser) {
        const message = `At most ${maxSocketsPerUser} open connections per user`;
        return errorResponse(refusal("too_many_connections", message));
      }
    }
    const { 0: client, 1: server } = new WebSocketPair();
    const peer = identity && {
      userId: identity.userId,
      role: identity.role,
      jwtExpiresAt: identity.expiresAt,
    };
    this.ctx.acceptWebSocket(server, peer ? [userTag(peer.userId, peer.role)] : []);
    const attachment: Attachment<S> = {
      v: 2,
      id: crypto.randomUUID(),
      openedAt: Date.now(),
      peer,
      state: this.initialState(request),
    };
    this.store().write(server, attachment);
    await this.onConnect({ ...attachment, ws: server });
    const offered =
      request.headers
        .get("Sec-WebSocket-Protocol")
        ?.split(",")
        .map((p) => p.trim()) ?? [];
    const headers = offered.includes(SUBPROTOCOL) ? { "Sec-WebSocket-Protocol": SUBPROTOCOL } : undefined;
    return new Response(null, { status: 101, webSocket: client, headers });
  }

  /**
   * Synchronous for a frame past the budget: the runtime dispatches a plain call about 1.5 times
   * faster than an async one, and a flood is mostly such frames.
   */
  override webSocketMessage(ws: WebSocket, raw: string | ArrayBuffer): Promise<void> | undefined {
    try {
      const attachment = this.store().read(ws);
      if (!attachment) {
        closeQuietly(ws, CloseCode.policyViolation, "unknown connection");
        return;
      }
      const budget = attachment.peer ? socketBudget(getConfig(this.env).limits) : ANONYMOUS_BUDGET;
      if (closeIfOverBudget(ws, this.budget, budget)) return;
      if (misencoded(ws, raw)) return;
      return this.handleFrame({ ...attachment, ws }, raw);
    } catch (error) {
      console.error(`${this.label}: frame failed`, describeError(error));
      return;
    }
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    // 1005 (no code) and 1006 (no close frame) mean the peer is gone: there is no one to answer.
    if (code !== 1005 && code !== 1006) closeQuietly(ws, code, reason);
    const attachment = this.store().read(ws);
    if (!attachment) return;
    try {
      await this.onClose({ ...attachment, ws });
    } catch (error) {
      console.error(`${this.label}: close failed`, describeError(error));
    }
  }

  override async webSocketError(_ws: WebSocket, error: unknown): Promise<void> {
    console.warn(`${this.label}: socket error`, describeError(error));
  }

  override async alarm(): Promise<void> {
    try {
      await this.onAlarm();
    } catch (error) {
      // Never rethrown: the runtime's own retries would run on top of the object's schedule.
      console.error(`${this.label}: alarm failed`, describeError(error));
    }
  }

  // ---- internals ----

  private async handleFrame(connection: Connection<S>, raw: string | ArrayBuffer): Promise<void> {
    let ackId: number | undefined;
    try {
      if (connection.peer && this.closeIfExpired(connection)) return;
      const incoming = this.transport.decode(raw, getConfig(this.env).limits.maxFrameBytes, this.checks());
      if (incoming.kind === "ping") {
        if (this.transport.pong) sendFrame(connection.ws, this.transport.pong);
        return;
      }
      if (incoming.kind === "disconnect")
        return closeQuietly(connection.ws, CloseCode.normal, "client disconnect");
      if (incoming.kind === "login") return await this.onLogin(connection, incoming.nsp, incoming.auth);
      // Before a login, nothing but the login is heard.
      if (incoming.kind === "ignored" || !connection.peer) return;
      ackId = incoming.ackId;
      if (incoming.kind === "invalid") {
        return this.answer(connection, refused(refusal("invalid_payload", incoming.reason)), ackId);
      }
      const command = incoming.checked
        ? ({ event: incoming.name, data: incoming.data } as CommandOf<Commands>)
        : parseCommand(this.commands, incoming.name, incoming.data, this.served);
      if (isRefusal(command)) return this.answer(connection, refused(command), ackId);
      this.answer(connection, await this.onCommand(connection, command), ackId);
    } catch (error) {
      console.error(`${this.label}: frame failed`, describeError(error));
      this.answer(connection, refused(refusal("internal_error", "Something went wrong")), ackId);
    }
  }

  /** Closes a connection whose JWT has expired (4401, after the transport's goodbye); true if it did. */
  private closeIfExpired(connection: Connection<S>, now = Date.now()): boolean {
    if (!connection.peer || connection.peer.jwtExpiresAt > now) return false;
    for (const frame of this.transport.goodbye) sendFrame(connection.ws, frame);
    closeQuietly(connection.ws, CloseCode.jwtExpired, "jwt_expired");
    return true;
  }

  /** The one-pass checks of this object's commands, compiled once per command set. */
  private checks(): CommandChecks {
    let compiled = COMPILED.get(this.commands);
    if (!compiled) {
      const byName = new Map(
        Object.entries(this.commands).map(([name, schema]) => [name, compileAccepts(schema)] as const),
      );
      compiled = (name) => byName.get(name);
      COMPILED.set(this.commands, compiled);
    }
    return compiled;
  }

  private store(): Attachments<S> {
    this.attachmentStore ??= new Attachments(this.stateCodec());
    return this.attachmentStore;
  }
}
