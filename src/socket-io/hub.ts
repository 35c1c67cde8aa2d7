import { z } from "zod";
import { type Identity, InvalidJwtError, verifyUserJwt } from "../auth/jwt";
import type { LiveAudience } from "../booking-room/commands";
import type { RemoteJoiner } from "../booking-room/presence";
import { getConfig } from "../config";
import { recordAdminAccess } from "../db/admin-audit";
import type { Addressee, DeliveryAck, DeliveryItem, DeliveryReceiver } from "../delivery/items";
import { SeenPositions } from "../delivery/seen";
import { feedShardOf, feedStub, inboxStub } from "../delivery/targets";
import { ApiError, refusal } from "../errors";
import { describeError } from "../log";
import { meter } from "../metering/meter";
import { clientEventData, type UserRole } from "../protocol";
import { bookingRoom } from "../rooms";
import type { Peer } from "../sockets/attachment";
import { type CommandOf, type Outcome, type OutEvent, refused } from "../sockets/command";
import { sendFrame } from "../sockets/encode";
import { closeQuietly } from "../sockets/frames";
import { type Connection, SocketServer } from "../sockets/server";
import { connectError, connectOk, eventPacket, MAX_ECHO_CHARS, openPacket, PING } from "./codec";
import { HUB_CONNECTION, type HubConnection, joinedAt, joinsOrJoined, MAX_JOINED } from "./connection";
import { Heartbeat } from "./heartbeat";
import { socketIoTransport } from "./transport";

const counters = meter("SocketIoHub");

/** The header the Worker names the hub in, since an object does not know its own name. */
export const HUB_HEADER = "X-Spana-Socket-Io-Hub";
/** Where the hub remembers its own index, for what it tells others when nobody is connected. */
const INDEX_KEY = "hub";

/** The event an admin emits to hear every booking's messages and changes, as the native admin feed. */
export const WATCH_FEED = "watch-feed";

const hubCommands = { ...clientEventData, [WATCH_FEED]: z.unknown() };
type HubCommand = CommandOf<typeof hubCommands>;
type BookingCommand = Exclude<HubCommand, { event: typeof WATCH_FEED }>;

/**
 * Socket.IO v4 for the seed's existing apps: one hub holds many connections, each one user's. A
 * connection's commands go to the booking room that owns them, which runs them as it runs its own
 * sockets' and answers with an outcome this hub frames. Everything the connections hear comes from
 * the rooms (and support threads) by cursor, each item addressed, like any receiver; their live
 * events (typing, presence) come best-effort. Connections arrive before anyone knows whose they
 * are (the JWT comes in the CONNECT packet), so they land on a hub at random; the user's inbox
 * counts them across hubs and tells the rooms where they are. The hub hibernates between events.
 */
export class SocketIoHub extends SocketServer<HubConnection, typeof hubCommands> implements DeliveryReceiver {
  protected readonly label = "socket.io hub";
  protected readonly commands = hubCommands;
  protected override readonly served =
    ": this endpoint takes join-booking, booking-chat, mark-read, typing and watch-feed";
  private readonly seen = new SeenPositions();
  /** Logins under way: who each will be, so a second CONNECT waits for nothing and the cap counts them. */
  private readonly loggingIn = new WeakMap<WebSocket, Peer>();
  private readonly heartbeat = new Heartbeat(() => getConfig(this.env));
  /** Commands under way per booking: a push from its room waits for them (see `forward`). */
  private readonly executing = new Map<string, Set<Promise<unknown>>>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env, socketIoTransport);
  }

  // ---- RPC: what the rooms, inboxes and feed shards ask of a hub ----

  /**
   * A conversation's items, each frame for whom it is addressed: messages to the connections that
   * joined the booking (from the seq each joined at) and to admins watching the feed, lifecycle
   * events to their party's connections or the admins that joined, read marks to the other party.
   */
  async deliver(source: string, items: DeliveryItem[]): Promise<DeliveryAck> {
    const bookingId = source.startsWith("booking:") ? source.slice("booking:".length) : null;
    // What the room handed over with a command's answer comes first (see `forward`).
    const executing = bookingId === null ? undefined : this.executing.get(bookingId);
    if (executing?.size) await Promise.allSettled([...executing]);
    return this.deliverNow(source, bookingId, items);
  }

  private deliverNow(source: string, bookingId: string | null, items: DeliveryItem[]): DeliveryAck {
    const users = addressedUsers(items);
    const interested = this.connections(
      (c) =>
        c.state.feed ||
        (bookingId !== null && joinsOrJoined(c.state, bookingId)) ||
        users.some((u) => isUser(c.peer, u)),
    );
    if (interested.length === 0) {
      this.stopListening(bookingId, users);
      return { stop: true };
    }
    for (const item of this.seen.fresh(source, items)) {
      for (const addressed of item.frames) {
        const packet = toPacket(addressed.frame);
        if (!packet) continue;
        const to = addressed.to ?? ["joined"];
        for (const c of interested) if (hears(c, to, item, bookingId)) sendFrame(c.ws, packet);
      }
    }
    return undefined;
  }

  /** A live event of a booking (typing, presence) for the connections here that joined it. */
  async live(bookingId: string, event: OutEvent, audience: LiveAudience): Promise<void> {
    this.broadcast(event.event, event.data, (c) => {
      if (joinedAt(c.state, bookingId) === undefined || !c.peer) return false;
      if (c.peer.role === "admin") return audience.admins;
      return audience.users.some((u) => isUser(c.peer, u));
    });
  }

  /** The connections here that joined `bookingId` (its room asks after waking, for presence). */
  async joinedTo(bookingId: string): Promise<RemoteJoiner[]> {
    return this.connections((c) => joinedAt(c.state, bookingId) !== undefined).flatMap((c) =>
      c.peer ? [{ connectionId: c.id, userId: c.peer.userId, role: c.peer.role }] : [],
    );
  }

  /** How many logged-in connections `who` holds here (the inbox asks when its count looks full). */
  async countConnections(who: { userId: string; role: UserRole }): Promise<number> {
    return this.count(who);
  }

  // ---- SocketServer hooks ----

  protected stateCodec() {
    return HUB_CONNECTION;
  }

  protected initialState(request: Request): HubConnection {
    return { hub: Number(request.headers.get(HUB_HEADER)), joined: [], feed: false };
  }

  protected override admit(request: Request): Response | null {
    const hub = Number(request.headers.get(HUB_HEADER));
    if (!Number.isInteger(hub) || hub < 0) return new Response(null, { status: 400 });
    if (this.ctx.storage.kv.get(INDEX_KEY) !== hub) this.ctx.storage.kv.put(INDEX_KEY, hub);
    return null;
  }

  protected override async onConnect(connection: Connection<HubConnection>): Promise<void> {
    sendFrame(connection.ws, openPacket(connection.id, getConfig(this.env).socketIoPing));
    await this.schedule();
  }

  protected override async onLogin(
    connection: Connection<HubConnection>,
    nsp: string,
    auth: unknown,
  ): Promise<void> {
    const { ws } = connection;
    if (nsp !== "/") {
      const shown = JSON.stringify(nsp.slice(0, MAX_ECHO_CHARS));
      return sendFrame(ws, connectError(`Invalid namespace ${shown}: only "/" is served`));
    }
    // One login per connection: joins and the feed belong to the user who made them.
    if (connection.peer || this.loggingIn.has(ws)) {
      return sendFrame(
        ws,
        connectError("Already connected: open a new connection to log in as someone else"),
      );
    }
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
    const peer: Peer = { userId: identity.userId, role: identity.role, jwtExpiresAt: identity.expiresAt };
    const max = getConfig(this.env).limits.maxSocketsPerUser;
    this.loggingIn.set(ws, peer);
    try {
      const here = this.count(peer);
      // The cap is per user across every hub: the user's inbox adds up what each hub holds.
      counters.calls++;
      const allowed =
        here <= max &&
        (await inboxStub(this.env, peer).claimSocketIoConnection(connection.state.hub, peer, here));
      if (!allowed) return sendFrame(ws, connectError(`Too many connections: at most ${max} per user`));
      this.update(connection, { peer });
    } finally {
      this.loggingIn.delete(ws);
    }
    // Logged in: a user's budget from here on, starting full.
    this.refillBudget(connection);
    sendFrame(ws, connectOk(connection.id));
  }

  protected async onCommand(connection: Connection<HubConnection>, command: HubCommand): Promise<Outcome> {
    const peer = connection.peer;
    if (!peer) return refused(refusal("unauthorized", "Log in first"));
    if (command.event === WATCH_FEED) return this.watchFeed(connection, peer);
    return this.forward(connection, peer, command);
  }

  protected override async onClose(connection: Connection<HubConnection>): Promise<void> {
    const peer = connection.peer;
    if (!peer) return;
    const hub = connection.state.hub;
    // The rooms it joined hear it left (for presence); nothing waits for them.
    for (const { bookingId, pending } of connection.state.joined) {
      if (pending) continue;
      bookingRoom(this.env, bookingId)
        .leave(connection.id)
        .catch((error) => console.warn("socket.io hub: a room did not hear a leave", describeError(error)));
    }
    if (connection.state.feed && !this.connections((c) => c.state.feed && c.id !== connection.id).length) {
      this.detachFromFeed(hub);
    }
    try {
      // The user's inbox counts their connections across hubs; this one is gone.
      counters.calls++;
      await inboxStub(this.env, peer).releaseSocketIoConnection(hub, this.count(peer, connection.ws));
    } catch (error) {
      console.warn("socket.io hub: could not tell the inbox of a closed connection", describeError(error));
    }
  }

  /**
   * Closes connections whose pongs stopped or that never logged in in time, and, once per interval,
   * pings the others.
   */
  protected override async onAlarm(): Promise<void> {
    counters.alarmsRun++;
    const now = Date.now();
    const pinging = this.heartbeat.pingsNow(now);
    for (const c of this.allConnections()) {
      const lastHeard = this.ctx.getWebSocketAutoResponseTimestamp(c.ws)?.getTime() ?? c.openedAt;
      const reason = this.heartbeat.staleReason(
        { openedAt: c.openedAt, loggedIn: c.peer !== null },
        lastHeard,
        now,
      );
      if (reason) closeQuietly(c.ws, 1001, reason);
      else if (pinging) sendFrame(c.ws, PING);
    }
    await this.schedule(true);
  }

  // ---- commands ----

  /** Makes every admin feed shard send this hub its bookings, and this connection hear them. */
  private async watchFeed(connection: Connection<HubConnection>, peer: Peer): Promise<Outcome> {
    if (peer.role !== "admin")
      return refused(refusal("not_authorized", "Only admins can watch every booking"));
    const shards = getConfig(this.env).adminFeedShards;
    if (!connection.state.feed) {
      // On the record before anything of the feed is granted, as on /admin/ws.
      try {
        await recordAdminAccess(this.env.DB, peer.userId, "feed.watch", `all ${shards} shards (socket.io)`);
      } catch {
        return refused(refusal("unavailable", "The audit trail cannot be written; try again"));
      }
      for (let shard = 0; shard < shards; shard++) {
        counters.calls++;
        await feedStub(this.env, shard, shards).attachHub(connection.state.hub);
      }
      const current = this.current(connection);
      this.update(current, { state: { ...current.state, feed: true } });
    }
    return { reply: [], ack: JSON.stringify({ shards }) };
  }

  /** A booking's command, run by its room; a join's slot here is taken before the room is asked. */
  private async forward(
    connection: Connection<HubConnection>,
    peer: Peer,
    command: BookingCommand,
  ): Promise<Outcome> {
    const { bookingId } = command.data;
    const fail = (code: "not_joined" | "invalid_request", message: string) =>
      refused(refusal(code, message), bookingId);
    if (command.event !== "join-booking" && joinedAt(connection.state, bookingId) === undefined) {
      return fail("not_joined", "Join the booking on this connection first");
    }
    const reserving = command.event === "join-booking" && !joinsOrJoined(connection.state, bookingId);
    if (reserving) {
      if (connection.state.joined.length >= MAX_JOINED) {
        return fail("invalid_request", `At most ${MAX_JOINED} bookings joined on one connection`);
      }
      this.updateJoins(connection, (joined) => [...joined, { bookingId, afterSeq: 0, pending: true }]);
    }
    const caller = { connectionId: connection.id, ...peer, joined: true, hub: connection.state.hub };
    let outcome: Outcome;
    try {
      counters.calls++;
      outcome = await this.executeInOrder(bookingId, async () => {
        const answer = await bookingRoom(this.env, bookingId).execute(caller, command);
        // The room's next items for this hub came with the answer (a message sent from here):
        // every connection here that joined hears them now, without a call of their own.
        if (answer.handed) this.deliverNow(`booking:${bookingId}`, bookingId, answer.handed);
        return answer;
      });
    } catch (error) {
      if (reserving)
        this.updateJoins(connection, (joined) => joined.filter((j) => j.bookingId !== bookingId));
      throw error;
    }
    const joined = outcome.joined;
    if (joined) {
      this.updateJoins(connection, (entries) => [
        ...entries.filter((j) => j.bookingId !== bookingId),
        { bookingId, afterSeq: joined.lastSeq },
      ]);
    } else if (reserving) {
      this.updateJoins(connection, (entries) => entries.filter((j) => j.bookingId !== bookingId));
    }
    return outcome;
  }

  // ---- internals ----

  /** Runs a room's command; pushes from that room wait until it (and what it handed over) is done. */
  private async executeInOrder<T>(bookingId: string, run: () => Promise<T>): Promise<T> {
    const running = run();
    const set = this.executing.get(bookingId) ?? new Set<Promise<unknown>>();
    this.executing.set(bookingId, set);
    set.add(running);
    try {
      return await running;
    } finally {
      set.delete(running);
      if (set.size === 0) this.executing.delete(bookingId);
    }
  }

  private updateJoins(
    connection: Connection<HubConnection>,
    change: (joined: HubConnection["joined"]) => HubConnection["joined"],
  ): void {
    const current = this.current(connection);
    this.update(current, { state: { ...current.state, joined: change(current.state.joined) } });
  }

  /** Logged-in connections of `who` here, and logins of theirs under way; `except` left out. */
  private count(who: { userId: string; role: UserRole }, except?: WebSocket): number {
    let n = 0;
    for (const c of this.allConnections()) {
      if (c.ws === except) continue;
      if (isUser(c.peer ?? this.loggingIn.get(c.ws) ?? null, who)) n++;
    }
    return n;
  }

  /**
   * Nobody here wants this source: the feed shard stops naming this hub when nobody here watches,
   * and the users it was addressed to have no connection here (a hub that restarted lost them
   * without closes), so rooms stop being told to push here. Nothing waits for either.
   */
  private stopListening(bookingId: string | null, users: { userId: string; role: UserRole }[]): void {
    const hub = this.ctx.storage.kv.get(INDEX_KEY);
    if (typeof hub !== "number") return;
    if (bookingId !== null && this.connections((c) => c.state.feed).length === 0) {
      const shards = getConfig(this.env).adminFeedShards;
      feedStub(this.env, feedShardOf(bookingId, shards), shards)
        .detachHub(hub)
        .catch((error) =>
          console.warn("socket.io hub: a feed shard did not hear a detach", describeError(error)),
        );
    }
    for (const user of users) {
      inboxStub(this.env, user)
        .releaseSocketIoConnection(hub, 0)
        .catch((error) =>
          console.warn("socket.io hub: an inbox did not hear a release", describeError(error)),
        );
    }
  }

  private detachFromFeed(hub: number): void {
    const shards = getConfig(this.env).adminFeedShards;
    for (let shard = 0; shard < shards; shard++) {
      feedStub(this.env, shard, shards)
        .detachHub(hub)
        .catch((error) =>
          console.warn("socket.io hub: a feed shard did not hear a detach", describeError(error)),
        );
    }
  }

  /** One alarm for all connections, set while there are any (heartbeat.ts). */
  private async schedule(fromAlarm = false): Promise<void> {
    const connections = this.allConnections();
    if (connections.length === 0) return;
    const now = Date.now();
    const due = this.heartbeat.due(
      connections.map((c) => ({ openedAt: c.openedAt, loggedIn: c.peer !== null })),
      now,
    );
    if (!fromAlarm) {
      const current = await this.ctx.storage.getAlarm();
      if (current !== null && current <= due) return;
    }
    counters.alarmsSet++;
    await this.ctx.storage.setAlarm(due);
  }
}

function isUser(peer: Peer | null, who: { userId: string; role: UserRole }): boolean {
  return peer !== null && peer.userId === who.userId && peer.role === who.role;
}

/** The users the items address by name (their connections here want the source, joined or not). */
function addressedUsers(items: DeliveryItem[]): { userId: string; role: UserRole }[] {
  const users = new Map<string, { userId: string; role: UserRole }>();
  for (const item of items) {
    for (const frame of item.frames) {
      for (const to of frame.to ?? [])
        if (typeof to === "object" && !to.joinedOnly) users.set(`${to.role}:${to.userId}`, to);
    }
  }
  return [...users.values()];
}

/** Whether connection `c` is among `to` for `item`. */
function hears(
  c: Connection<HubConnection>,
  to: Addressee[],
  item: DeliveryItem,
  bookingId: string | null,
): boolean {
  const since = bookingId === null ? undefined : joinedAt(c.state, bookingId);
  const joined = since !== undefined && (item.stream !== "messages" || item.at > since);
  for (const a of to) {
    if (a === "feed") {
      if (c.state.feed) return true;
    } else if (a === "joined") {
      if (joined) return true;
    } else if (a === "admins-joined") {
      if (since !== undefined && c.peer?.role === "admin") return true;
    } else if (isUser(c.peer, a) && (!a.joinedOnly || joined)) return true;
  }
  return false;
}

const NativeFrame = z.object({ event: z.string(), data: z.unknown() });

/** How the rooms' frames start (sockets/encode.ts): the event's name, then its data to the closing brace. */
const FRAME_HEAD = /^\{"event":"([a-z-]{1,64})","data":/;

/**
 * A native frame (`{"event","data"}`, as the rooms encode them) as a Socket.IO event packet: the
 * data spliced in as it is, without parsing it again; anything shaped otherwise is parsed.
 */
function toPacket(frame: string): string | null {
  const head = FRAME_HEAD.exec(frame);
  if (head?.[1] && frame.endsWith("}")) return eventPacket(head[1], frame.slice(head[0].length, -1));
  const parsed = NativeFrame.safeParse(JSON.parse(frame));
  return parsed.success ? eventPacket(parsed.data.event, JSON.stringify(parsed.data.data)) : null;
}
