import { DurableObject } from "cloudflare:workers";
import { z } from "zod";
import { type Identity, InvalidJwtError, verifyUserJwt } from "../auth/jwt";
import { getConfig } from "../config";
import { recordAdminAccess } from "../db/admin-audit";
import type { DeliveryAck, DeliveryItem, DeliveryReceiver } from "../delivery/items";
import { SeenPositions } from "../delivery/seen";
import { feedStub, inboxStub } from "../delivery/targets";
import { ApiError } from "../errors";
import { describeError } from "../log";
import { meter } from "../metering/meter";
import { type ClientEvent, clientEventData, type UserRole } from "../protocol";
import { bookingRoom } from "../rooms";
import { type BudgetLimits, FrameBudget } from "../sockets/frame-budget";
import { closeIfOverBudget, closeQuietly, misencoded, socketBudget } from "../sockets/frames";
import { sendFrame } from "../sockets/socket-state";
import {
  ackPacket,
  connectError,
  connectOk,
  decodeFrame,
  eventPacket,
  MAX_ECHO_CHARS,
  NOOP,
  openPacket,
  PING,
  PONG,
} from "./codec";
import {
  Connection,
  type ConnectionUser,
  closeIfExpired,
  isUser,
  joinedAt,
  joinsOrJoined,
  MAX_JOINED,
  staleReason,
} from "./connection";
import type { RemoteReply } from "./remote";

const counters = meter("SocketIoHub");

/**
 * Before its CONNECT packet a connection has said nothing about who it is: it may send a handful
 * of frames (the CONNECT, perhaps a stray ping) and no more.
 */
const UNAUTHENTICATED_BUDGET: BudgetLimits = { perSecond: 1, burst: 3 };

/** The header the Worker names the hub in, since an object does not know its own name. */
export const HUB_HEADER = "X-Spana-Socket-Io-Hub";

/**
 * Socket.IO v4 for the seed's existing apps: one hub holds many connections, each one user's, and
 * carries their events to and from the booking rooms. Connections arrive before anyone knows whose
 * they are (the JWT comes in Socket.IO's CONNECT packet), so they land on a hub at random; the user's
 * inbox and the rooms they join then know the hub. The hub hibernates between events: its one alarm
 * pings every connection each 25 s (and closes those that never logged in), and the runtime answers
 * their pongs without waking it. Every frame counts against its connection's budget before anything
 * reads it, so no connection can flood the hub, logged in or not.
 */
export class SocketIoHub extends DurableObject<Env> implements DeliveryReceiver {
  private readonly seen = new SeenPositions();
  private readonly cache = new WeakMap<WebSocket, Connection>();
  private readonly budget = new FrameBudget();
  /** Logins under way: who each will be, so a second CONNECT waits for nothing and the cap counts them. */
  private readonly connecting = new WeakMap<WebSocket, ConnectionUser>();
  /** When the next round of pings is due; unknown (0) after a wake, so the next alarm pings. */
  private pingAt = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PONG, NOOP));
  }

  override async fetch(request: Request): Promise<Response> {
    const hub = Number(request.headers.get(HUB_HEADER));
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket" || !Number.isInteger(hub)) {
      return new Response(null, { status: 426 });
    }
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    const sid = crypto.randomUUID();
    this.write(server, { v: 1, sid, hub, openedAt: Date.now(), user: null, joined: [], feed: false });
    server.send(openPacket(sid, getConfig(this.env).socketIoPing));
    await this.schedule();
    return new Response(null, { status: 101, webSocket: client });
  }

  /** Synchronous for a frame past the budget, as in SocketObject: a flood is mostly such frames. */
  override webSocketMessage(ws: WebSocket, raw: string | ArrayBuffer): Promise<void> | undefined {
    try {
      const connection = this.read(ws);
      if (!connection) {
        closeQuietly(ws, 1008, "unknown connection");
        return;
      }
      const budget = connection.user ? socketBudget(getConfig(this.env).limits) : UNAUTHENTICATED_BUDGET;
      if (closeIfOverBudget(ws, this.budget, budget)) return;
      if (misencoded(ws, raw)) return;
      return this.handleFrame(ws, connection, raw);
    } catch (error) {
      console.error("socket.io hub: frame failed", describeError(error));
      return;
    }
  }

  private async handleFrame(ws: WebSocket, connection: Connection, raw: string | ArrayBuffer): Promise<void> {
    try {
      const { limits } = getConfig(this.env);
      const incoming = decodeFrame(raw, limits.maxFrameBytes);
      if (incoming.kind === "ping") return sendFrame(ws, PONG);
      if (incoming.kind === "close" || incoming.kind === "disconnect")
        return closeQuietly(ws, 1000, "client disconnect");
      if (incoming.kind === "connect")
        return await this.connectSocketIo(ws, connection, incoming.nsp, incoming.auth);
      if (!connection.user) return;
      if (incoming.kind === "invalid") return sendFrame(ws, chatError("invalid_payload", incoming.reason));
      if (incoming.kind !== "event") return;
      await this.event(ws, connection, incoming);
    } catch (error) {
      console.error("socket.io hub: frame failed", describeError(error));
      sendFrame(ws, chatError("internal_error", "Something went wrong"));
    }
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    const user = this.read(ws)?.user;
    // 1005 (no code) and 1006 (no close frame) mean the peer is gone: there is no one to answer.
    if (code !== 1005 && code !== 1006) closeQuietly(ws, code, reason);
    if (!user) return;
    try {
      // The user's inbox counts their connections across hubs; this one is gone.
      counters.calls++;
      await inboxStub(this.env, user).releaseSocketIoConnection(this.hubOf(ws), this.count(user, ws));
    } catch (error) {
      console.warn("socket.io hub: could not tell the inbox of a closed connection", describeError(error));
    }
  }

  /**
   * Closes connections whose pongs stopped or that never logged in in time, and, once per
   * interval, pings the others.
   */
  override async alarm(): Promise<void> {
    counters.alarmsRun++;
    const now = Date.now();
    const config = getConfig(this.env);
    const limits = {
      pingLimitMs: config.socketIoPing.intervalMs + config.socketIoPing.timeoutMs,
      connectTimeoutMs: config.socketIoConnectTimeoutMs,
    };
    const pinging = now >= this.pingAt;
    for (const ws of this.ctx.getWebSockets()) {
      const connection = this.read(ws);
      const lastHeard =
        this.ctx.getWebSocketAutoResponseTimestamp(ws)?.getTime() ?? connection?.openedAt ?? 0;
      const reason = staleReason(connection, lastHeard, now, limits);
      if (reason) closeQuietly(ws, 1001, reason);
      else if (pinging) sendFrame(ws, PING);
    }
    if (pinging) this.pingAt = now + config.socketIoPing.intervalMs;
    await this.schedule(true);
  }

  /**
   * A booking room's messages, for the connections here that joined it, and its lifecycle events
   * for the admins among them (parties hear theirs from their inboxes). An admin watching the feed
   * has the messages from there already.
   */
  async deliver(source: string, items: DeliveryItem[]): Promise<DeliveryAck> {
    const bookingId = source.startsWith("live:booking:") ? source.slice("live:booking:".length) : "";
    // A connection still joining keeps the booking's messages coming, though it hears none yet.
    const listening = this.connections((c) => c.user !== null && joinsOrJoined(c, bookingId));
    if (listening.length === 0) return { stop: true };
    // Each item becomes its Socket.IO packets once, however many connections hear it.
    const fresh = this.seen.fresh(source, items).map((item) => ({
      item,
      packets: toPackets(item.kind === "event" ? item.frames : [item.frame]),
    }));
    for (const [ws, c] of listening) {
      const afterSeq = joinedAt(c, bookingId);
      if (afterSeq === undefined) continue;
      const isAdmin = c.user?.role === "admin";
      for (const { item, packets } of fresh) {
        // Messages, unless the feed brings them; lifecycle events for admins (parties' come from their inboxes).
        const hears =
          item.kind === "message" ? !c.feed && item.seq > afterSeq : item.kind === "event" && isAdmin;
        if (hears) for (const packet of packets) sendFrame(ws, packet);
      }
    }
    return undefined;
  }

  /** Lifecycle events of one user's bookings, from that user's inbox. */
  async notifyUser(who: { userId: string; role: UserRole }, frames: string[]): Promise<DeliveryAck> {
    const theirs = this.connections((c) => isUser(c, who));
    if (theirs.length === 0) return { stop: true };
    this.emitNative(
      theirs.map(([ws]) => ws),
      frames,
    );
    return undefined;
  }

  /** Everything the admin feed shards carry, for the admins here that watch it. */
  async feed(frames: string[]): Promise<DeliveryAck> {
    const admins = this.connections((c) => c.user?.role === "admin" && c.feed);
    if (admins.length === 0) return { stop: true };
    this.emitNative(
      admins.map(([ws]) => ws),
      frames,
    );
    return undefined;
  }

  /** How many logged-in connections `who` holds here (the inbox asks when its count looks full). */
  async connectionsOf(who: { userId: string; role: UserRole }): Promise<number> {
    return this.count(who);
  }

  // ---- Socket.IO events ----

  private async connectSocketIo(
    ws: WebSocket,
    connection: Connection,
    nsp: string,
    auth: unknown,
  ): Promise<void> {
    if (nsp !== "/") {
      const shown = JSON.stringify(nsp.slice(0, MAX_ECHO_CHARS));
      return sendFrame(ws, connectError(`Invalid namespace ${shown}: only "/" is served`));
    }
    // One login per connection: joins and the feed belong to the user who made them.
    if (connection.user || this.connecting.has(ws)) {
      return sendFrame(
        ws,
        connectError("Already connected: open a new connection to log in as someone else"),
      );
    }
    const token = z.object({ token: z.string().min(1).max(8192) }).safeParse(auth);
    if (!token.success) {
      return sendFrame(ws, connectError("Authentication required: pass auth: { token: <JWT> } to io()"));
    }
    const config = getConfig(this.env);
    let identity: Identity;
    try {
      identity = await verifyUserJwt(token.data.token, config);
    } catch (error) {
      if (error instanceof InvalidJwtError)
        return sendFrame(ws, connectError("The token is invalid or expired"));
      if (error instanceof ApiError) return sendFrame(ws, connectError(error.message));
      throw error;
    }
    const user = { userId: identity.userId, role: identity.role, jwtExpiresAt: identity.expiresAt };
    const max = config.limits.maxSocketsPerUser;
    this.connecting.set(ws, user);
    try {
      const here = this.count(user);
      // The cap is per user across every hub: the user's inbox adds up what each hub holds.
      counters.calls++;
      const allowed =
        here <= max &&
        (await inboxStub(this.env, identity).claimSocketIoConnection(connection.hub, user, here));
      if (!allowed) {
        return sendFrame(ws, connectError(`Too many connections: at most ${max} per user`));
      }
      this.write(ws, { ...(this.read(ws) ?? connection), user });
    } finally {
      this.connecting.delete(ws);
    }
    // Logged in: the budget of a user's connection from here on, starting full.
    this.budget.reset(ws);
    sendFrame(ws, connectOk(connection.sid));
  }

  private async event(
    ws: WebSocket,
    connection: Connection,
    incoming: { nsp: string; name: string; args: unknown[]; ackId: number | undefined },
  ) {
    const user = connection.user;
    if (!user) return;
    if (closeIfExpired(ws, connection)) return;
    const { ackId } = incoming;
    const reply = (r: RemoteReply) => {
      for (const e of r.emits) sendFrame(ws, eventPacket(e.event, e.data));
      if (ackId !== undefined) sendFrame(ws, ackPacket(ackId, r.ack));
    };
    const refuse = (code: string, message: string, bookingId?: string) =>
      reply({
        emits: [{ event: "chat-error", data: errorJson(code, message, bookingId) }],
        ack: JSON.stringify({ error: { code, message } }),
      });
    if (incoming.nsp !== "/") return refuse("invalid_payload", 'Only the "/" namespace is served');
    if (incoming.name === WATCH_FEED) {
      if (user.role !== "admin") return refuse("not_authorized", "Only admins can watch every booking");
      if (connection.feed) return reply({ emits: [], ack: JSON.stringify({ shards: this.shards() }) });
      // On the record before anything of the feed is granted, as on /admin/ws.
      try {
        await recordAdminAccess(
          this.env.DB,
          user.userId,
          "feed.watch",
          `all ${this.shards()} shards (socket.io)`,
        );
      } catch {
        return refuse("unavailable", "The audit trail cannot be written; try again");
      }
      return reply({ emits: [], ack: JSON.stringify({ shards: await this.watchFeed(ws, connection) }) });
    }
    const parsed = parseEvent(incoming.name, incoming.args[0]);
    if (!parsed.ok) return refuse("invalid_payload", parsed.message);
    const frame = parsed.frame;
    const bookingId = frame.data.bookingId;
    if (frame.event !== "join-booking" && joinedAt(connection, bookingId) === undefined) {
      return refuse("not_joined", "Join the booking on this connection first", bookingId);
    }
    const reserving = frame.event === "join-booking" && !joinsOrJoined(connection, bookingId);
    if (reserving) {
      if (connection.joined.length >= MAX_JOINED) {
        return refuse(
          "invalid_request",
          `At most ${MAX_JOINED} bookings joined on one connection`,
          bookingId,
        );
      }
      // The slot is taken before the room is asked, so joins sent back to back cannot pass the cap.
      this.updateJoins(ws, connection, (joined) => [...joined, { bookingId, afterSeq: 0, pending: true }]);
    }
    let result: RemoteReply;
    try {
      counters.calls++;
      result = await bookingRoom(this.env, bookingId).remote(
        { connectionId: connection.sid, ...user, hub: connection.hub },
        frame,
      );
    } catch (error) {
      if (reserving)
        this.updateJoins(ws, connection, (joined) => joined.filter((j) => j.bookingId !== bookingId));
      throw error;
    }
    if (result.joinedAtSeq !== undefined) {
      const afterSeq = result.joinedAtSeq;
      this.updateJoins(ws, connection, (joined) => [
        ...joined.filter((j) => j.bookingId !== bookingId),
        { bookingId, afterSeq },
      ]);
    } else if (reserving) {
      this.updateJoins(ws, connection, (joined) => joined.filter((j) => j.bookingId !== bookingId));
    }
    reply(result);
  }

  /** Makes every admin feed shard send its frames to this hub, and this connection hear them. */
  private async watchFeed(ws: WebSocket, connection: Connection): Promise<number> {
    const shards = this.shards();
    for (let shard = 0; shard < shards; shard++) {
      counters.calls++;
      await feedStub(this.env, shard, shards).attachHub(connection.hub);
    }
    this.write(ws, { ...(this.read(ws) ?? connection), feed: true });
    return shards;
  }

  // ---- internals ----

  private shards(): number {
    return getConfig(this.env).adminFeedShards;
  }

  private updateJoins(
    ws: WebSocket,
    connection: Connection,
    change: (joined: Connection["joined"]) => Connection["joined"],
  ): void {
    const current = this.read(ws) ?? connection;
    this.write(ws, { ...current, joined: change(current.joined) });
  }

  private emitNative(sockets: WebSocket[], frames: string[]): void {
    for (const packet of toPackets(frames)) for (const ws of sockets) sendFrame(ws, packet);
  }

  /** Logged-in connections of `who` here, and logins of theirs under way; `except` left out. */
  private count(who: { userId: string; role: UserRole }, except?: WebSocket): number {
    let n = 0;
    for (const ws of this.ctx.getWebSockets()) {
      if (ws === except) continue;
      const c = this.read(ws);
      const pending = this.connecting.get(ws);
      if ((c && isUser(c, who)) || (pending && pending.userId === who.userId && pending.role === who.role))
        n++;
    }
    return n;
  }

  private hubOf(ws: WebSocket): number {
    return this.read(ws)?.hub ?? 0;
  }

  /** The connections `match` picks; one whose JWT expired is closed instead, as a native socket. */
  private connections(match: (c: Connection) => boolean): [WebSocket, Connection][] {
    const found: [WebSocket, Connection][] = [];
    const now = Date.now();
    for (const ws of this.ctx.getWebSockets()) {
      const c = this.read(ws);
      if (c && match(c) && !closeIfExpired(ws, c, now)) found.push([ws, c]);
    }
    return found;
  }

  private read(ws: WebSocket): Connection | null {
    const cached = this.cache.get(ws);
    if (cached) return cached;
    const parsed = Connection.safeParse(ws.deserializeAttachment());
    if (!parsed.success) return null;
    this.cache.set(ws, parsed.data);
    return parsed.data;
  }

  private write(ws: WebSocket, connection: Connection): void {
    ws.serializeAttachment(connection);
    this.cache.set(ws, connection);
  }

  /**
   * One alarm for all connections, set while there are any: at the next round of pings, or
   * earlier when a connection that has not logged in reaches its deadline.
   */
  private async schedule(fromAlarm = false): Promise<void> {
    const sockets = this.ctx.getWebSockets();
    if (sockets.length === 0) return;
    const config = getConfig(this.env);
    const now = Date.now();
    let due = this.pingAt > now ? this.pingAt : now + config.socketIoPing.intervalMs;
    for (const ws of sockets) {
      const c = this.read(ws);
      if (c && c.user === null) due = Math.min(due, c.openedAt + config.socketIoConnectTimeoutMs);
    }
    if (!fromAlarm) {
      const current = await this.ctx.storage.getAlarm();
      if (current !== null && current <= due) return;
    }
    counters.alarmsSet++;
    await this.ctx.storage.setAlarm(due);
  }
}

/** The event an admin emits to hear every booking's messages and changes, as the native admin feed. */
export const WATCH_FEED = "watch-feed";

function errorJson(code: string, message: string, bookingId?: string): string {
  return JSON.stringify({ code, message, ...(bookingId ? { bookingId } : {}) });
}

function chatError(code: string, message: string): string {
  return eventPacket("chat-error", errorJson(code, message));
}

const NativeFrame = z.object({ event: z.string(), data: z.unknown() });

/** Native frames (`{"event","data"}`, as the objects encode them) as Socket.IO event packets. */
function toPackets(frames: string[]): string[] {
  return frames.flatMap((frame) => {
    const parsed = NativeFrame.safeParse(JSON.parse(frame));
    return parsed.success ? [eventPacket(parsed.data.event, JSON.stringify(parsed.data.data))] : [];
  });
}

/** A Socket.IO event as one of the booking events, parsed with the native protocol's schemas. */
function parseEvent(
  name: string,
  data: unknown,
): { ok: true; frame: ClientEvent } | { ok: false; message: string } {
  if (!Object.hasOwn(clientEventData, name)) {
    return {
      ok: false,
      message: `Unknown event "${name.slice(0, MAX_ECHO_CHARS)}": this endpoint takes join-booking, booking-chat, mark-read and ${WATCH_FEED}`,
    };
  }
  const event = name as keyof typeof clientEventData;
  const parsed = clientEventData[event].safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? ` at ${issue.path.join(".")}` : "";
    return { ok: false, message: `Invalid ${event} payload${where}: ${issue?.message ?? "invalid"}` };
  }
  return { ok: true, frame: { event, data: parsed.data } as ClientEvent };
}
