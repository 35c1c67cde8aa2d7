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
import { RateLimiter } from "../sockets/rate-limiter";
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
  private readonly rateLimiter = new RateLimiter();
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

  /** Called by a Socket.IO hub when one of this user's connections lands on it. */
  async attachHub(hub: number, who: { userId: string; role: UserRole }): Promise<void> {
    if (!this.who()) {
      this.ctx.storage.kv.put(WHO_KEY, who);
      counters.rowsWritten++;
    }
    this.hubs.add(hub);
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
    const { limits } = getConfig(this.env);
    const { clientMessageId } = frame.data;
    if (state.role === "admin") {
      const hint = "Admins reply with POST /chat/support/{providerId}/messages";
      return sendChatError(ws, new ChatError("not_authorized", hint, clientMessageId));
    }
    const taken = this.rateLimiter.take(state.userId, limits.sendRatePerUser, limits.sendBurstPerUser);
    if (!taken.ok) {
      const message = `Too many messages; retry in ${taken.retryAfterMs} ms`;
      return sendChatError(ws, new ChatError("rate_limited", message, clientMessageId, taken.retryAfterMs));
    }
    // support-chat: the thread stores it and delivers it back here (to every device) as the acknowledgement.
    const identity = { userId: state.userId, role: state.role, expiresAt: state.jwtExpiresAt };
    const result = await postSupportMessage(this.env, identity, state.userId, frame.data);
    if (!result.ok) return sendChatError(ws, new ChatError(result.code, result.message, clientMessageId));
    // A resend is not delivered again; answer it here so a client that lost its ack learns it went through.
    if (result.value.duplicate) sendFrame(ws, encode("support-chat", result.value.message));
  }
}
