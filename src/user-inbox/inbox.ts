import { z } from "zod";
import { getConfig } from "../config";
import type { DeliveryAck, DeliveryItem, DeliveryReceiver, InboxWants } from "../delivery/items";
import { SeenPositions } from "../delivery/seen";
import { sioHubStub } from "../delivery/targets";
import { refusal } from "../errors";
import { describeError } from "../log";
import { meter } from "../metering/meter";
import { CloseCode, inboxEventData, type UserRole } from "../protocol";
import { bookingRoom } from "../rooms";
import type { StateCodec } from "../sockets/attachment";
import { type CommandOf, type Outcome, refused, SILENT } from "../sockets/command";
import { sendFrame } from "../sockets/encode";
import { closeQuietly } from "../sockets/frames";
import { nativeTransport } from "../sockets/native";
import { type Connection, SocketServer } from "../sockets/server";
import { durableDatabase, meteredSql } from "../storage/durable-db";
import { openSchema } from "../storage/migrations";
import { postSupportMessage } from "../support/thread-stub";
import { ChatList, type StoredChats } from "./chat-list";
import { prepareInboxStorage } from "./inbox-storage";
import migrations from "./migrations/migrations.js";

const counters = meter("UserInbox");

/** Per Socket.IO hub, how many of this user's connections it last said it holds. */
const CONNECTIONS_KEY = "socketIoConnections";
const ConnectionCounts = z.record(z.string().regex(/^\d+$/), z.number().int().nonnegative());

type NoState = Record<string, never>;
const NO_STATE: StateCodec<NoState> = { schema: z.object({}).strict() as z.ZodType<NoState> };

/**
 * One user's inbox, wherever they are in the app: every event of their bookings that concerns
 * them, on every device they have connected, and the list behind `GET /chat/my-chats`.
 * Providers also send support messages through it.
 */
export class UserInbox extends SocketServer<NoState, typeof inboxEventData> implements DeliveryReceiver {
  protected readonly label = "inbox";
  protected readonly commands = inboxEventData;
  private chats: ChatList;
  private seen = new SeenPositions();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env, nativeTransport);
    this.chats = this.open();
  }

  private open(): ChatList {
    const sql = meteredSql(this.ctx.storage.sql, counters);
    openSchema(this.ctx.storage, sql, counters, migrations, (checking) => {
      prepareInboxStorage(checking, migrations);
      return true;
    });
    return new ChatList(durableDatabase(this.ctx.storage, sql));
  }

  /**
   * The user's data is being erased: every socket here is closed and everything stored deleted;
   * the inbox starts empty if the user comes back. Whether it held any chat.
   */
  async erase(): Promise<boolean> {
    const held = this.ctx.storage.sql.exec("SELECT 1 FROM chats LIMIT 1").toArray().length > 0;
    for (const connection of this.allConnections()) closeQuietly(connection.ws, CloseCode.erased, "erased");
    await this.ctx.storage.deleteAll();
    this.seen = new SeenPositions();
    this.chats = this.open();
    return held;
  }

  async deliver(source: string, items: DeliveryItem[]): Promise<DeliveryAck> {
    const fresh = this.seen.fresh(source, items);
    const frames: string[] = [];
    const bookingId = source.startsWith("booking:") ? source.slice("booking:".length) : null;
    const withEvents = fresh.some((item) => item.stream === "events");
    const collect = () => {
      for (const item of fresh) {
        if (item.stream !== "events") {
          frames.push(...item.frames.map((f) => f.frame));
          continue;
        }
        // Lifecycle changes are rare and change what is stored, so their repeats are checked durably.
        if (bookingId === null || !this.chats.isNewer(bookingId, item.at)) continue;
        if (item.summary) this.chats.save(item.summary, item.at);
        frames.push(...item.frames.map((f) => f.frame));
      }
    };
    // Only a lifecycle change writes; a batch of notifications needs no transaction.
    if (withEvents) this.ctx.storage.transactionSync(collect);
    else collect();
    const sockets = frames.length > 0 ? this.connections() : [];
    for (const frame of frames) for (const c of sockets) sendFrame(c.ws, frame);
    // The user's Socket.IO connections hear their lifecycle events and read marks from the room
    // itself: say which hubs hold them (message notifications they do not need: the rooms they
    // joined send them every message).
    const forSocketIo = items.some((item) => item.stream !== "messages");
    const hubs = forSocketIo ? this.socketIoHubs() : [];
    const wants = this.wants();
    const at = Date.now();
    return hubs.length > 0 ? { hubs, wants, at } : { wants, at };
  }

  /**
   * What this inbox takes besides lifecycle changes: message notifications while a socket of its
   * own is open to show them, read marks while it or a Socket.IO connection of the user is.
   */
  private wants(nativeSockets = this.connections().length, hubs = this.socketIoHubs().length): InboxWants {
    return { messages: nativeSockets > 0, reads: nativeSockets > 0 || hubs > 0 };
  }

  /**
   * The user's open chats start sending what this inbox now wants (they stop by themselves when
   * a delivery's answer says it no longer does). Called when the first socket opens, so a call
   * per open chat per app start, not per message.
   */
  private async tellRooms(who: { userId: string; role: UserRole }, wants: InboxWants): Promise<void> {
    if (who.role === "admin") return;
    const party = { userId: who.userId, role: who.role };
    const { live } = this.chats.list();
    const at = Date.now();
    await Promise.all(
      live.map(async (bookingId) => {
        counters.calls++;
        try {
          await bookingRoom(this.env, bookingId).inboxWants(party, wants, at);
        } catch (error) {
          // That chat's notifications start with its next lifecycle change instead.
          console.warn("inbox: a room did not hear what it wants", describeError(error));
        }
      }),
    );
  }

  protected override async onConnect(connection: Connection<NoState>): Promise<void> {
    const peer = connection.peer;
    const open = this.connections().length;
    if (!peer || open !== 1) return;
    const before = this.wants(0);
    const now = this.wants(open);
    if (now.messages !== before.messages || now.reads !== before.reads) await this.tellRooms(peer, now);
  }

  /** The hubs that hold this user's Socket.IO connections, as they last said. */
  private socketIoHubs(): number[] {
    return Object.entries(this.connectionCounts())
      .filter(([, n]) => n > 0)
      .map(([hub]) => Number(hub));
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
    const max = getConfig(this.env).limits.maxSocketsPerUser;
    const counts = this.connectionCounts();
    const others = () => Object.keys(counts).filter((h) => h !== String(hub));
    const elsewhere = () => others().reduce((sum, h) => sum + (counts[h] ?? 0), 0);
    if (onHub + elsewhere() > max) {
      await Promise.all(
        others().map(async (h) => {
          counters.calls++;
          counts[h] = await sioHubStub(this.env, Number(h)).countConnections(who);
        }),
      );
    }
    const allowed = onHub + elsewhere() <= max;
    const before = this.wants(undefined, this.socketIoHubs().length);
    counts[String(hub)] = allowed ? onHub : onHub - 1;
    this.storeConnectionCounts(counts);
    const now = this.wants(undefined, this.socketIoHubs().length);
    if (now.reads !== before.reads) await this.tellRooms(who, now);
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

  /**
   * Whether the user is connected anywhere: a socket here, or Socket.IO connections as their hubs
   * last said (a booking room asks before it notifies an offline user).
   */
  async isLive(): Promise<boolean> {
    return this.connections().length > 0 || this.socketIoHubs().length > 0;
  }

  /** The stored half of `GET /chat/my-chats`; the Worker asks the live chats' rooms for the rest. */
  async storedChats(): Promise<StoredChats> {
    return this.chats.list();
  }

  protected stateCodec() {
    return NO_STATE;
  }

  protected initialState() {
    return {};
  }

  /** `support-chat`: the thread stores it and delivers it back here (to every device) as the acknowledgement. */
  protected async onCommand(
    connection: Connection<NoState>,
    command: CommandOf<typeof inboxEventData>,
  ): Promise<Outcome> {
    const { clientMessageId } = command.data;
    const extras = clientMessageId ? { clientMessageId } : {};
    const peer = connection.peer;
    if (!peer) return SILENT;
    if (peer.role === "admin") {
      return refused(
        refusal("not_authorized", "Admins reply with POST /chat/support/{providerId}/messages", extras),
      );
    }
    // Limited as over HTTP, in the one function every post goes through.
    const identity = { userId: peer.userId, role: peer.role, expiresAt: peer.jwtExpiresAt };
    const result = await postSupportMessage(this.env, identity, peer.userId, command.data);
    if (!result.ok) return refused({ ...result.refusal, ...extras });
    // A resend is not delivered again; answer it here so a client that lost its ack learns it went through.
    const { messageJson, duplicate } = result.value;
    return duplicate ? { reply: [{ event: "support-chat", data: messageJson }], ack: messageJson } : SILENT;
  }
}
