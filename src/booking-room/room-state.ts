import { z } from "zod";
import { getConfig } from "../config";
import { Conversation } from "../conversation/conversation";
import { ObjectStorage } from "../conversation/object-storage";
import { at, type Position } from "../conversation/positions";
import { d1Shard, recordedShard } from "../db/shards";
import { ReceiverGates } from "../delivery/gates";
import { sioListenerName } from "../delivery/targets";
import { meter } from "../metering/meter";
import type { PartyRole } from "../protocol";
import { durableDatabase } from "../storage/durable-db";
import { type Forgetful, transaction } from "../storage/transaction";
import { AttachmentStore } from "./attachment-store";
import { BookingEvents } from "./booking-events";
import { type BookingRecord, BookingStore } from "./booking-store";
import { bookingConsumers, type RoomFollowers } from "./consumers";
import { Listeners } from "./listeners";
import migrations from "./migrations/migrations.js";
import { ReadState } from "./read-state";

export const roomCounters = meter("BookingRoom");

/** Where each notification consumer's last notification left it, in the key-value storage. */
const NOTIFY_MARK_PREFIX = "notified:";
const NotifyMark = z.record(z.string(), z.number().int().nonnegative());

/** Tables a room from before the drizzle migrations carries over. */
const LEGACY_TABLES = ["booking", "messages", "read_cursors"];

/** Everything a booking room keeps, in its own SQLite, with the in-memory copies of hot rows. */
export class RoomState {
  readonly storage: ObjectStorage;
  readonly bookings: BookingStore;
  readonly events: BookingEvents;
  readonly reads: ReadState;
  readonly conversation: Conversation;
  readonly listeners: Listeners;
  readonly attachments: AttachmentStore;
  /** What the inboxes and the feed shard last said they want. */
  readonly gates: ReceiverGates;
  /** Whether a user has a socket on this room; the room that owns the sockets says. */
  connectedHere: (who: { userId: string; role: PartyRole }) => boolean = () => false;

  constructor(
    private readonly ctx: DurableObjectState,
    env: Env,
    feedShards: number,
  ) {
    this.storage = new ObjectStorage(ctx.storage, roomCounters, migrations, LEGACY_TABLES);
    const db = durableDatabase(ctx.storage, this.storage.sql);
    this.bookings = new BookingStore(
      db,
      () => this.storage.exists(),
      () => this.storage.create(),
    );
    this.events = new BookingEvents(db);
    this.reads = new ReadState(db);
    this.listeners = new Listeners(db, () => this.storage.exists());
    this.attachments = new AttachmentStore(db, () => this.storage.exists());
    this.gates = new ReceiverGates(ctx.storage, roomCounters);
    const schedule = () => getConfig(env).d1Copy;
    this.conversation = new Conversation(
      ctx,
      db,
      roomCounters,
      () =>
        bookingConsumers({
          env,
          counters: roomCounters,
          feedShards,
          gates: this.gates,
          view: () => this.followers(),
          listeners: () => this.listeners.hubs(),
          onListenerGone: (hub) => {
            this.listeners.remove(hub);
            this.conversation.refreshConsumers();
          },
          onHubsWanted: (hubs, from) => this.follow(hubs, from),
          notify: getConfig(env).notify,
          d1: d1Shard(env, recordedShard(ctx.storage.kv)),
          connectedHere: (who) => this.connectedHere(who),
          notifyMarks: {
            read: (name) => {
              const parsed = NotifyMark.safeParse(ctx.storage.kv.get(`${NOTIFY_MARK_PREFIX}${name}`));
              return parsed.success ? parsed.data : undefined;
            },
            write: (name, at) => {
              ctx.storage.kv.put(`${NOTIFY_MARK_PREFIX}${name}`, at);
              roomCounters.rowsWritten++;
            },
          },
        }),
      schedule,
    );
    if (this.storage.exists()) this.conversation.woke();
  }

  /**
   * Pushes this booking to `hubs` from now on, each new one starting with the messages and events
   * of the batch that named it (`from`) and the read cursors as they are.
   */
  follow(hubs: number[], from: Position = {}): void {
    const added = hubs.filter((hub) => this.listeners.add(hub));
    if (added.length === 0) return;
    const cursors = this.reads.cursors();
    const start: Position = {
      messages: at(from, "messages"),
      events: at(from, "events"),
      customerReads: cursors.customer,
      providerReads: cursors.provider,
    };
    this.conversation.refreshConsumers(Object.fromEntries(added.map((hub) => [sioListenerName(hub), start])));
  }

  /** The booking, if it exists. */
  booking(): BookingRecord | null {
    return this.bookings.get();
  }

  /** The booking and what its followers read; only asked for once the booking exists. */
  followers(): RoomFollowers {
    const booking = this.bookings.get();
    if (!booking) throw new Error("the room has no booking");
    return { booking, log: this.conversation.log, reads: this.reads, events: this.events };
  }

  /** One SQLite transaction; if it rolls back, what was cached inside it is forgotten too. */
  transaction<T>(run: () => T): T {
    const caches: Forgetful[] = [this.storage, this.bookings, this.events, this.reads, this.conversation];
    return transaction(this.ctx.storage, caches, run);
  }
}
