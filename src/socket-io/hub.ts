import { DurableObject } from "cloudflare:workers";
import { z } from "zod";
import { type Identity, InvalidJwtError, verifyUserJwt } from "../auth/jwt";
import { getConfig } from "../config";
import type { DeliveryAck, DeliveryItem, DeliveryReceiver } from "../delivery/items";
import { SeenPositions } from "../delivery/seen";
import { feedStub, inboxStub } from "../delivery/targets";
import { ApiError } from "../errors";
import { describeError } from "../log";
import { meter } from "../metering/meter";
import { type ClientEvent, clientEventData, UserRole } from "../protocol";
import { bookingRoom } from "../rooms";
import { sendFrame } from "../sockets/socket-state";
import {
  ackPacket,
  connectError,
  connectOk,
  decodeFrame,
  eventPacket,
  NOOP,
  openPacket,
  PING,
  PONG,
  SERVER_DISCONNECT,
} from "./codec";
import type { RemoteReply } from "./remote";

const counters = meter("SocketIoHub");

/** Bookings one connection may have joined at once. */
const MAX_JOINED = 50;

/** A connection, in its WebSocket attachment: it survives hibernation and eviction. */
const Connection = z.object({
  v: z.literal(1),
  sid: z.string(),
  hub: z.number().int().nonnegative(),
  openedAt: z.number(),
  user: z.object({ userId: z.string(), role: UserRole, jwtExpiresAt: z.number() }).nullable(),
  /**
   * The bookings it joined, each with the last seq as of its join: what came before it was
   * replayed by the join (or not asked for), so the hub drops it if the room sends it later.
   */
  joined: z.array(z.object({ bookingId: z.string(), afterSeq: z.number().int().nonnegative() })),
  /** An admin that asked for every booking's messages (`watch-feed`). */
  feed: z.boolean().default(false),
});
type Connection = z.infer<typeof Connection>;

/** The header the Worker names the hub in, since an object does not know its own name. */
export const HUB_HEADER = "X-Spana-Socket-Io-Hub";

/**
 * Socket.IO v4 for the seed's existing apps: one hub holds many connections, each one user's, and
 * carries their events to and from the booking rooms. Connections arrive before anyone knows whose
 * they are (the JWT comes in Socket.IO's CONNECT packet), so they land on a hub at random; the user's
 * inbox and the rooms they join then know the hub. The hub hibernates between events: its one alarm
 * pings every connection each 25 s, and the runtime answers their pongs without waking it.
 */
export class SocketIoHub extends DurableObject<Env> implements DeliveryReceiver {
  private readonly seen = new SeenPositions();
  private readonly cache = new WeakMap<WebSocket, Connection>();

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
    await this.keepPinging();
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(ws: WebSocket, raw: string | ArrayBuffer): Promise<void> {
    try {
      const connection = this.read(ws);
      if (!connection) return ws.close(1008, "unknown connection");
      const incoming = decodeFrame(raw);
      if (incoming.kind === "ping") return sendFrame(ws, PONG);
      if (incoming.kind === "close" || incoming.kind === "disconnect")
        return ws.close(1000, "client disconnect");
      if (incoming.kind === "connect")
        return await this.connectSocketIo(ws, connection, incoming.nsp, incoming.auth);
      if (!connection.user) return;
      if (incoming.kind === "invalid") return sendFrame(ws, chatError("invalid_payload", incoming.reason));
      if (incoming.kind !== "event") return;
      await this.event(ws, connection, incoming.name, incoming.args, incoming.ackId);
    } catch (error) {
      console.error("socket.io hub: frame failed", describeError(error));
      sendFrame(ws, chatError("internal_error", "Something went wrong"));
    }
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    if (code === 1005 || code === 1006) return;
    try {
      ws.close(code, reason);
    } catch {
      // Already closed.
    }
  }

  /** Every interval: closes connections whose pongs stopped or that never connected, pings the others. */
  override async alarm(): Promise<void> {
    counters.alarmsRun++;
    const now = Date.now();
    const ping = getConfig(this.env).socketIoPing;
    for (const ws of this.ctx.getWebSockets()) {
      const connection = this.read(ws);
      const lastHeard =
        this.ctx.getWebSocketAutoResponseTimestamp(ws)?.getTime() ?? connection?.openedAt ?? 0;
      const reason = staleReason(connection, lastHeard, now, ping.intervalMs + ping.timeoutMs);
      if (reason) {
        try {
          ws.close(1001, reason);
        } catch {
          // Already closing.
        }
        continue;
      }
      sendFrame(ws, PING);
    }
    await this.keepPinging(true);
  }

  /**
   * A booking room's messages, for the connections here that joined it, and its lifecycle events
   * for the admins among them (parties hear theirs from their inboxes). An admin watching the feed
   * has the messages from there already.
   */
  async deliver(source: string, items: DeliveryItem[]): Promise<DeliveryAck> {
    const bookingId = source.startsWith("live:booking:") ? source.slice("live:booking:".length) : "";
    const joined = this.connections((c) => c.user !== null && joinedAt(c, bookingId) !== undefined);
    if (joined.length === 0) return { stop: true };
    // Each item becomes its Socket.IO packets once, however many connections hear it.
    const fresh = this.seen.fresh(source, items).map((item) => ({
      item,
      packets: toPackets(item.kind === "event" ? item.frames : [item.frame]),
    }));
    for (const [ws, c] of joined) {
      const afterSeq = joinedAt(c, bookingId) ?? 0;
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
    const theirs = this.connections((c) => c.user?.userId === who.userId && c.user.role === who.role);
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

  // ---- Socket.IO events ----

  private async connectSocketIo(
    ws: WebSocket,
    connection: Connection,
    nsp: string,
    auth: unknown,
  ): Promise<void> {
    if (nsp !== "/") return sendFrame(ws, connectError(`Invalid namespace ${nsp}: only "/" is served`));
    const token = z.object({ token: z.string().min(1).max(8192) }).safeParse(auth);
    if (!token.success) {
      return sendFrame(ws, connectError("Authentication required: pass auth: { token: <JWT> } to io()"));
    }
    let identity: Identity;
    try {
      identity = await verifyUserJwt(token.data.token, getConfig(this.env));
    } catch (error) {
      if (error instanceof InvalidJwtError)
        return sendFrame(ws, connectError("The token is invalid or expired"));
      if (error instanceof ApiError) return sendFrame(ws, connectError(error.message));
      throw error;
    }
    const { maxSocketsPerUser } = getConfig(this.env).limits;
    const same = (c: Connection) => c.user?.userId === identity.userId && c.user.role === identity.role;
    if (this.connections(same).length >= maxSocketsPerUser) {
      return sendFrame(ws, connectError(`Too many connections: at most ${maxSocketsPerUser} per user`));
    }
    const user = { userId: identity.userId, role: identity.role, jwtExpiresAt: identity.expiresAt };
    this.write(ws, { ...connection, user });
    // The user's inbox sends this hub the user's lifecycle events from now on.
    counters.calls++;
    await inboxStub(this.env, identity).attachHub(connection.hub, {
      userId: identity.userId,
      role: identity.role,
    });
    sendFrame(ws, connectOk(connection.sid));
  }

  private async event(ws: WebSocket, connection: Connection, name: string, args: unknown[], ackId?: number) {
    const user = connection.user;
    if (!user) return;
    if (closeIfExpired(ws, connection)) return;
    const reply = (r: RemoteReply) => {
      for (const e of r.emits) sendFrame(ws, eventPacket(e.event, e.data));
      if (ackId !== undefined) sendFrame(ws, ackPacket(ackId, r.ack));
    };
    const refuse = (code: string, message: string, bookingId?: string) =>
      reply({
        emits: [{ event: "chat-error", data: errorJson(code, message, bookingId) }],
        ack: JSON.stringify({ error: { code, message } }),
      });
    if (name === WATCH_FEED) {
      if (user.role !== "admin") return refuse("not_authorized", "Only admins can watch every booking");
      const shards = connection.feed
        ? getConfig(this.env).adminFeedShards
        : await this.watchFeed(ws, connection);
      return reply({ emits: [], ack: JSON.stringify({ shards }) });
    }
    const parsed = parseEvent(name, args[0]);
    if (!parsed.ok) return refuse("invalid_payload", parsed.message);
    const frame = parsed.frame;
    const bookingId = frame.data.bookingId;
    const alreadyJoined = joinedAt(connection, bookingId) !== undefined;
    if (frame.event !== "join-booking" && !alreadyJoined) {
      return refuse("not_joined", "Join the booking on this connection first", bookingId);
    }
    if (frame.event === "join-booking" && !alreadyJoined && connection.joined.length >= MAX_JOINED) {
      return refuse("invalid_request", `At most ${MAX_JOINED} bookings joined on one connection`, bookingId);
    }
    counters.calls++;
    const result = await bookingRoom(this.env, bookingId).remote(
      { connectionId: connection.sid, ...user, hub: connection.hub },
      frame,
    );
    if (result.joinedAtSeq !== undefined) {
      const current = this.read(ws) ?? connection;
      const others = current.joined.filter((j) => j.bookingId !== bookingId);
      this.write(ws, { ...current, joined: [...others, { bookingId, afterSeq: result.joinedAtSeq }] });
    }
    reply(result);
  }

  /** Makes every admin feed shard send its frames to this hub, and this connection hear them. */
  private async watchFeed(ws: WebSocket, connection: Connection): Promise<number> {
    const shards = getConfig(this.env).adminFeedShards;
    for (let shard = 0; shard < shards; shard++) {
      counters.calls++;
      await feedStub(this.env, shard, shards).attachHub(connection.hub);
    }
    this.write(ws, { ...(this.read(ws) ?? connection), feed: true });
    return shards;
  }

  // ---- internals ----

  private emitNative(sockets: WebSocket[], frames: string[]): void {
    for (const packet of toPackets(frames)) for (const ws of sockets) sendFrame(ws, packet);
  }

  /** The connections `match` picks; one whose JWT expired is closed instead, as a native socket. */
  private connections(match: (c: Connection) => boolean): [WebSocket, Connection][] {
    const found: [WebSocket, Connection][] = [];
    for (const ws of this.ctx.getWebSockets()) {
      const c = this.read(ws);
      if (c && match(c) && !closeIfExpired(ws, c)) found.push([ws, c]);
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

  /** One alarm for all connections, set while there are any. */
  private async keepPinging(fromAlarm = false): Promise<void> {
    if (this.ctx.getWebSockets().length === 0) return;
    if (!fromAlarm && (await this.ctx.storage.getAlarm()) !== null) return;
    counters.alarmsSet++;
    await this.ctx.storage.setAlarm(Date.now() + getConfig(this.env).socketIoPing.intervalMs);
  }
}

/** Closes a connection whose JWT has expired (Socket.IO disconnect, then 4401, as a native socket). */
function closeIfExpired(ws: WebSocket, connection: Connection): boolean {
  if (!connection.user || connection.user.jwtExpiresAt > Date.now()) return false;
  try {
    sendFrame(ws, SERVER_DISCONNECT);
    ws.close(4401, "jwt_expired");
  } catch {
    // Already closing.
  }
  return true;
}

/**
 * Why a connection should be closed, if it should: no answer to pings within `limit`, or not
 * connected to the namespace within it (Socket.IO's connectTimeout, 45 s by default, is the same).
 */
function staleReason(connection: Connection | null, lastHeard: number, now: number, limit: number) {
  if (!connection) return "unknown connection";
  if (now - lastHeard > limit) return "ping timeout";
  if (connection.user === null && now - connection.openedAt > limit) return "connect timeout";
  return null;
}

function joinedAt(connection: Connection, bookingId: string): number | undefined {
  return connection.joined.find((j) => j.bookingId === bookingId)?.afterSeq;
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
      message: `Unknown event "${name.slice(0, 64)}": this endpoint takes join-booking, booking-chat, mark-read and ${WATCH_FEED}`,
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
