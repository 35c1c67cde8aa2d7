import { z } from "zod";
import { getConfig } from "../config";
import type { DeliveryAck, DeliveryItem, DeliveryReceiver } from "../delivery/items";
import { SeenPositions } from "../delivery/seen";
import { sioHubStub } from "../delivery/targets";
import { meter } from "../metering/meter";
import { inboxEventData, UserRole } from "../protocol";
import { HubRegistry } from "../socket-io/hub-registry";
import { liveSockets } from "../sockets/accept";
import { ChatError, type FrameOf, sendChatError } from "../sockets/frames";
import { SocketObject } from "../sockets/socket-object";
import { encode, type SocketState, sendFrame } from "../sockets/socket-state";
import { durableDatabase, meteredSql } from "../storage/durable-db";
import { postSupportMessage } from "../support/thread-stub";
import { ChatList, type StoredChats } from "./chat-list";
import { prepareInboxStorage } from "./inbox-storage";
import migrations from "./migrations/migrations.js";

const counters = meter("UserInbox");

const WHO_KEY = "socketIoUser";
const Who = z.object({ userId: z.string(), role: UserRole });
/** Per Socket.IO hub, how many of this user's connections it last said it holds. */
const CONNECTIONS_KEY = "socketIoConnections";
const ConnectionCounts = z.record(z.string().regex(/^\d+$/), z.number().int().nonnegative());

/**
 * One user's inbox, wherever they are in the app: every event of their bookings that concerns
 * them, on every device they have connected, and the list behind `GET /chat/my-chats`.
 * Providers also send support messages through it.
 */
export class UserInbox extends SocketObject<typeof inboxEventData> implements DeliveryReceiver {
  protected readonly label = "inbox";
  protected readonly clientEvents = inboxEventData;
  private readonly chats: ChatList;
  private readonly seen = new SeenPositions();
  private readonly hubs: HubRegistry;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const sql = meteredSql(ctx.storage.sql, counters);
    ctx.storage.transactionSync(() => prepareInboxStorage(sql, migrations));
    this.chats = new ChatList(durableDatabase(ctx.storage, sql));
    this.hubs = new HubRegistry(ctx.storage, counters);
  }

  async deliver(source: string, items: DeliveryItem[]): Promise<DeliveryAck> {
    const fresh = this.seen.fresh(source, items);
    const frames: string[] = [];
    const bookingId = source.startsWith("booking:") ? source.slice("booking:".length) : null;
    const withEvents = fresh.some((item) => item.kind === "event");
    const collect = () => {
      for (const item of fresh) {
        if (item.kind !== "event") {
          frames.push(item.frame);
          continue;
        }
        // Lifecycle changes are rare and change what is stored, so their repeats are checked durably.
        if (bookingId === null || !this.chats.isNewer(bookingId, item.id)) continue;
        if (item.summary) this.chats.save(item.summary, item.id);
        frames.push(...item.frames);
      }
    };
    // Only a lifecycle change writes; a batch of notifications needs no transaction.
    if (withEvents) this.ctx.storage.transactionSync(collect);
    else collect();
    if (frames.length === 0) return;
    const sockets = liveSockets(this.ctx);
    for (const frame of frames) for (const ws of sockets) sendFrame(ws, frame);
    // The user's Socket.IO connections hear the same changes; message notifications they do not
    // need, since the rooms they joined send them every message.
    const changes = fresh
      .filter((item) => item.kind !== "message")
      .flatMap((item) => (item.kind === "event" ? item.frames : [item.frame]));
    if (changes.length > 0) await this.forwardToSocketIo(changes);
  }

  /**
   * A Socket.IO hub asks whether one more connection of this user may log in on it: `onHub` is how
   * many the hub would then hold (the new one included). The cap is per user across every hub, so
   * the inbox adds up the last count each hub reported; when that looks full it asks the other hubs
   * for their exact counts (a hub that restarted lost its connections without saying so).
   */
  async claimSocketIoConnection(
    hub: number,
    who: { userId: string; role: UserRole },
    onHub: number,
  ): Promise<boolean> {
    if (!this.who()) {
      this.ctx.storage.kv.put(WHO_KEY, who);
      counters.rowsWritten++;
    }
    const max = getConfig(this.env).limits.maxSocketsPerUser;
    const counts = this.connectionCounts();
    const others = () => Object.keys(counts).filter((h) => h !== String(hub));
    const elsewhere = () => others().reduce((sum, h) => sum + (counts[h] ?? 0), 0);
    if (onHub + elsewhere() > max) {
      await Promise.all(
        others().map(async (h) => {
          counters.calls++;
          counts[h] = await sioHubStub(this.env, Number(h)).connectionsOf(who);
        }),
      );
    }
    const allowed = onHub + elsewhere() <= max;
    counts[String(hub)] = allowed ? onHub : onHub - 1;
    this.storeConnectionCounts(counts);
    if (allowed) this.hubs.add(hub);
    return allowed;
  }

  /** A hub says how many of this user's connections it holds after one closed. */
  async releaseSocketIoConnection(hub: number, onHub: number): Promise<void> {
    const counts = this.connectionCounts();
    if (counts[String(hub)] === onHub) return;
    counts[String(hub)] = onHub;
    this.storeConnectionCounts(counts);
  }

  private connectionCounts(): Record<string, number> {
    const parsed = ConnectionCounts.safeParse(this.ctx.storage.kv.get(CONNECTIONS_KEY));
    return parsed.success ? parsed.data : {};
  }

  private storeConnectionCounts(counts: Record<string, number>): void {
    const kept = Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0));
    this.ctx.storage.kv.put(CONNECTIONS_KEY, kept);
    counters.rowsWritten++;
  }

  private async forwardToSocketIo(frames: string[]): Promise<void> {
    const who = this.who();
    if (!who) return;
    await this.hubs.forward((hub) => sioHubStub(this.env, hub).notifyUser(who, frames));
  }

  /** This inbox's user, as the hub that first attached said (an object does not know its own name). */
  private who(): { userId: string; role: UserRole } | null {
    const who = Who.safeParse(this.ctx.storage.kv.get(WHO_KEY));
    return who.success ? who.data : null;
  }

  /** The stored half of `GET /chat/my-chats`; the Worker asks the live chats' rooms for the rest. */
  async storedChats(): Promise<StoredChats> {
    return this.chats.list();
  }

  protected override async onMessage(
    ws: WebSocket,
    state: SocketState,
    frame: FrameOf<typeof inboxEventData>,
  ): Promise<void> {
    const { clientMessageId } = frame.data;
    if (state.role === "admin") {
      const hint = "Admins reply with POST /chat/support/{providerId}/messages";
      return sendChatError(ws, new ChatError("not_authorized", hint, clientMessageId));
    }
    // support-chat: the thread stores it and delivers it back here (to every device) as the
    // acknowledgement; the post is limited as over HTTP.
    const identity = { userId: state.userId, role: state.role, expiresAt: state.jwtExpiresAt };
    const result = await postSupportMessage(this.env, identity, state.userId, frame.data);
    if (!result.ok) {
      const { code, message, retryAfterMs } = result;
      return sendChatError(ws, new ChatError(code, message, clientMessageId, retryAfterMs));
    }
    // A resend is not delivered again; answer it here so a client that lost its ack learns it went through.
    if (result.value.duplicate) sendFrame(ws, encode("support-chat", result.value.message));
  }
}
