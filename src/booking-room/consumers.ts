import { getTableColumns, sql } from "drizzle-orm";
import { type Config, getConfig } from "../config";
import type { Consumer } from "../conversation/consumer";
import { D1Copy, type D1MessageRow } from "../conversation/d1-copy";
import type { StoredMessage } from "../conversation/message-log";
import { at, type Position, type Stream } from "../conversation/positions";
import type { Database } from "../db/client";
import { insertFlags, type NewFlag } from "../db/message-flags";
import { bookings } from "../db/schema";
import { FeedConsumer } from "../delivery/feed-consumer";
import type { InboxGate, ReceiverGates } from "../delivery/gates";
import { hubConsumer } from "../delivery/hub-consumer";
import type { Addressed, Addressee, DeliveryItem } from "../delivery/items";
import type { Batch } from "../delivery/push-consumer";
import { feedShardOf, inboxName, inboxStub } from "../delivery/targets";
import type { Counters } from "../metering/meter";
import type { PartyRole } from "../protocol";
import { retentionCutoff } from "../retention/cutoff";
import { encode, frameOf } from "../sockets/encode";
import { type Audience, reaches } from "./audience";
import type { BookingEvent, BookingEvents } from "./booking-events";
import { type BookingRecord, partyId } from "./booking-store";
import { InboxConsumer } from "./inbox-consumer";
import { NotifyConsumer, type NotifyOptions } from "./notify-consumer";
import { liveMessageJson, previewFor, type RoomView, seenAlike, summaryFor } from "./present";
import { otherParty, type Reader } from "./read-state";

/** Messages (and lifecycle events) per delivery; a receiver far behind catches up in several. */
const BATCH = 200;

export type RoomFollowers = RoomView & { events: BookingEvents };

type Setup = {
  env: Env;
  counters: Counters;
  feedShards: number;
  /** What each inbox and the feed shard last said they want. */
  gates: ReceiverGates;
  view: () => RoomFollowers;
  /** The Socket.IO hubs this booking is pushed to (src/socket-io/hub.ts). */
  listeners: () => number[];
  /** A hub says nobody there wants this booking any more. */
  onListenerGone: (hub: number) => void;
  /** An inbox or the feed shard names hubs that want this booking, from the batch it was just given. */
  onHubsWanted: (hubs: number[], from: Position) => void;
  /** Where notifications for parties with no live connection go, or null (off). */
  notify: Config["notify"];
  /** Whether a party has a socket on this room now. */
  connectedHere: (who: { userId: string; role: PartyRole }) => boolean;
  /** Where each notification consumer's last notification left it (the object's key-value storage). */
  notifyMarks: NotifyOptions["marks"];
  /** The booking's D1 shard. */
  d1: D1Database;
};

/** The stream of a party's read cursor. */
export function readsOf(party: PartyRole): Stream {
  return party === "customer" ? "customerReads" : "providerReads";
}

/**
 * Who follows a booking's room: the D1 copy, each party's inbox, the booking's admin feed shard and
 * every Socket.IO hub that wants it. Each reads the room's log, lifecycle events and read cursors
 * from its own position; nothing is queued per message. An inbox hears messages and read marks
 * only while it has sockets to show them on, the feed shard only while an admin watches (see
 * delivery/gates.ts). Hubs are followed like any receiver (by cursor, retried, each on its own),
 * and the inboxes and the feed shard only say which hubs want what: nothing reaches a Socket.IO
 * client through a second hop.
 */
export function bookingConsumers(setup: Setup): Consumer[] {
  const { env, counters, feedShards, gates, view, listeners, onListenerGone, onHubsWanted, notify } = setup;
  const booking = view().booking;
  const source = `booking:${booking.id}`;
  const shard = feedShardOf(booking.id, feedShards);
  const inbox = (party: PartyRole) => {
    const who = { userId: partyId(booking, party), role: party };
    const name = inboxName(who);
    const gate = () => gates.inbox(name);
    return new InboxConsumer({
      env,
      counters,
      who,
      source,
      gates,
      head: () => inboxHead(view(), party, gate()),
      lastSeq: () => view().log.lastSeq(),
      batch: (from) => inboxBatch(view(), party, from, gate()),
      onHubs: onHubsWanted,
    });
  };
  const hub = (index: number) =>
    hubConsumer({
      env,
      counters,
      source,
      hub: index,
      head: () => headOf(view(), ["customerReads", "providerReads"]),
      batch: (from) => hubBatch(view(), from),
      onGone: () => onListenerGone(index),
    });
  return [
    new D1Copy(
      setup.d1,
      counters,
      {
        name: source,
        chatType: "booking",
        conversationId: booking.id,
        head: () => ({ messages: view().log.lastSeq(), booking: view().booking.version }),
        after: (seq, limit) => view().log.after(seq, limit),
        toRow: (m) => bookingMessageRow(booking.id, m),
        alongside: (db, messages) => contactFlags(db, booking.id, messages),
        heldSince: () => retentionCutoff(getConfig(env).retentionDays, Date.now()) ?? "",
        mirror: (db) => [mirrorBooking(db, view().booking)],
      },
      env.DB,
    ),
    inbox("customer"),
    inbox("provider"),
    new FeedConsumer({
      env,
      counters,
      gates,
      source,
      shard,
      shards: feedShards,
      head: () => headOf(view(), []),
      batch: (from) => feedBatch(view(), from),
      onHubs: onHubsWanted,
    }),
    ...listeners().map(hub),
    ...(notify ? (["customer", "provider"] as const).map((party) => notifier(setup, notify, party)) : []),
  ];
}

/** A party's notifications while all their apps are closed (NOTIFY_WEBHOOK_URL). */
function notifier(setup: Setup, notify: NonNullable<Config["notify"]>, party: PartyRole): NotifyConsumer {
  const { env, counters, view, connectedHere, notifyMarks } = setup;
  const booking = view().booking;
  const who = { userId: partyId(booking, party), role: party };
  return new NotifyConsumer({
    who,
    bookingId: booking.id,
    target: notify,
    coalesceMs: notify.coalesceMs,
    view,
    counters,
    marks: notifyMarks,
    isLive: async () => {
      if (connectedHere(who)) return true;
      // Their inbox knows their other sockets and Socket.IO connections.
      counters.calls++;
      return inboxStub(env, who).isLive();
    },
  });
}

/** How far there is to go: the newest message and event, and the read cursors in `reads`. */
function headOf(view: RoomFollowers, reads: Stream[]): Position {
  const cursors = view.reads.cursors();
  const head: Partial<Record<Stream, number>> = {
    messages: view.log.lastSeq(),
    events: view.events.lastId(),
  };
  for (const stream of reads) head[stream] = stream === "customerReads" ? cursors.customer : cursors.provider;
  return head;
}

/**
 * Messages and lifecycle events after `from`, in the order they happened: an event recorded
 * after message N comes after N and before N + 1. A batch cut short by its size takes only the
 * events that happened within the messages it carries.
 */
function merged(view: RoomFollowers, from: Position) {
  const messages = view.log.after(at(from, "messages"), BATCH);
  const throughSeq = messages.at(-1)?.seq ?? at(from, "messages");
  const complete = throughSeq >= view.log.lastSeq();
  const events = view.events
    .after(at(from, "events"), BATCH)
    .filter((e) => complete || e.atSeq <= throughSeq);
  const order: ({ message: StoredMessage } | { event: BookingEvent })[] = [];
  let next = 0;
  for (const message of messages) {
    for (let e = events[next]; e && e.atSeq < message.seq; e = events[++next]) order.push({ event: e });
    order.push({ message });
  }
  for (const e of events.slice(next)) order.push({ event: e });
  return { order, throughSeq, throughEvent: events.at(-1)?.id ?? at(from, "events") };
}

/** A party's read cursor as a `messages-read` item, when it moved past `from` within the batch. */
function readItem(
  view: RoomFollowers,
  reader: PartyRole,
  from: Position,
  throughSeq: number,
  to?: Addressee[],
): DeliveryItem | null {
  const stream = readsOf(reader);
  const seq = view.reads.cursors()[reader];
  if (seq <= at(from, stream) || seq > throughSeq) return null;
  const readerId = partyId(view.booking, reader);
  const frame = encode("messages-read", { bookingId: view.booking.id, readerId, seq });
  return { stream, at: seq, frames: [to ? { frame, to } : { frame }] };
}

/** What a party's inbox follows: lifecycle events always; messages and read marks while it wants them. */
function inboxHead(view: RoomFollowers, party: PartyRole, gate: InboxGate): Position {
  const head = headOf(view, gate.reads ? [readsOf(otherParty(party))] : []);
  if (gate.messagesFrom !== null) return head;
  const { messages: _messages, ...rest } = head;
  return rest;
}

/** Lifecycle events only, when an inbox does not want messages: every event after `from`. */
function eventsOnly(view: RoomFollowers, from: Position) {
  const events = view.events.after(at(from, "events"), BATCH);
  return {
    order: events.map((event) => ({ event })),
    throughSeq: view.log.lastSeq(),
    throughEvent: events.at(-1)?.id ?? at(from, "events"),
  };
}

/**
 * A party's inbox: the events meant for it; while it has sockets to show them on, the other
 * party's messages as notifications (from where it started listening) and their read marks.
 */
function inboxBatch(view: RoomFollowers, party: PartyRole, from: Position, gate: InboxGate): Batch {
  const { booking } = view;
  const { messagesFrom } = gate;
  const { order, throughSeq, throughEvent } =
    messagesFrom === null
      ? eventsOnly(view, from)
      : merged(view, { ...from, messages: Math.max(at(from, "messages"), messagesFrom) });
  const items: DeliveryItem[] = [];
  let lastEvent: DeliveryItem | null = null;
  for (const entry of order) {
    if ("message" in entry) {
      const m = entry.message;
      if (m.senderRole === party || m.hiddenAt !== null) continue;
      const notification = encode("booking-chat-notification", {
        bookingId: booking.id,
        seq: m.seq,
        senderId: m.senderId,
        senderRole: otherParty(party),
        preview: previewFor(m, party),
      });
      items.push({ stream: "messages", at: m.seq, frames: [{ frame: notification }] });
    } else {
      const frames = entry.event.notices.filter((n) => reaches(n.to, party)).map((n) => ({ frame: n.frame }));
      lastEvent = { stream: "events", at: entry.event.id, frames, summary: null };
      items.push(lastEvent);
    }
  }
  // The inbox keeps the summary as of the latest change: who is in the booking, and how it ended.
  if (lastEvent) lastEvent.summary = JSON.stringify(summaryFor(view, party));
  const through: Partial<Record<Stream, number>> = { events: throughEvent };
  if (messagesFrom !== null) through.messages = throughSeq;
  if (gate.reads) {
    const read = readItem(view, otherParty(party), from, throughSeq);
    if (read) items.push(read);
    const stream = readsOf(otherParty(party));
    through[stream] = read?.at ?? at(from, stream);
  }
  return { items, through };
}

/** The admin feed: every message in full and every change, token-free. */
function feedBatch(view: RoomFollowers, from: Position): Batch {
  const { order, throughSeq, throughEvent } = merged(view, from);
  const items = order.map(
    (entry): DeliveryItem =>
      "message" in entry
        ? {
            stream: "messages",
            at: entry.message.seq,
            frames: [{ frame: messageFrame(view, entry.message) }],
          }
        : { stream: "events", at: entry.event.id, frames: [{ frame: entry.event.feedFrame }] },
  );
  return { items, through: { messages: throughSeq, events: throughEvent } };
}

/**
 * A Socket.IO hub: everything, each frame addressed, for the hub to hand to whichever of its
 * connections it is for: messages to those that joined the booking (the sender's included, as the
 * seed's server broadcast to the whole room) and to admins watching the feed; each lifecycle notice
 * to its party or to the admins that joined; the feed's `booking-updated` to feed watchers; each
 * party's read marks to the other party.
 */
function hubBatch(view: RoomFollowers, from: Position): Batch {
  const { booking } = view;
  const { order, throughSeq, throughEvent } = merged(view, from);
  const party = (role: PartyRole): Addressee => ({ userId: partyId(booking, role), role });
  const audience = (to: Audience[]): Addressee[] => [
    ...(reaches(to, "customer") ? [party("customer")] : []),
    ...(reaches(to, "provider") ? [party("provider")] : []),
    ...(reaches(to, "admins") ? (["admins-joined"] as const) : []),
  ];
  const items = order.map((entry): DeliveryItem => {
    if ("message" in entry) {
      const m = entry.message;
      if (seenAlike(m)) {
        return {
          stream: "messages",
          at: m.seq,
          frames: [{ frame: messageFrame(view, m), to: ["joined", "feed"] }],
        };
      }
      // Masked or hidden: each party's connections get their own reading of it.
      const frames: Addressed[] = [
        { frame: messageFrame(view, m), to: ["admins-joined", "feed"] },
        ...(["customer", "provider"] as const).map((role) => ({
          frame: messageFrame(view, m, role),
          to: [{ userId: partyId(booking, role), role, joinedOnly: true as const }],
        })),
      ];
      return { stream: "messages", at: m.seq, frames };
    }
    const frames: Addressed[] = entry.event.notices.map((n) => ({ frame: n.frame, to: audience(n.to) }));
    frames.push({ frame: entry.event.feedFrame, to: ["feed"] });
    return { stream: "events", at: entry.event.id, frames };
  });
  const through: Partial<Record<Stream, number>> = { messages: throughSeq, events: throughEvent };
  for (const reader of ["customer", "provider"] as const) {
    const read = readItem(view, reader, from, throughSeq, [party(otherParty(reader))]);
    if (read) items.push(read);
    through[readsOf(reader)] = read?.at ?? at(from, readsOf(reader));
  }
  return { items, through };
}

function messageFrame(view: RoomFollowers, message: StoredMessage, reader: Reader = "admin"): string {
  return frameOf("booking-chat", liveMessageJson(view.booking.id, message, reader));
}

/** D1 binds at most 100 parameters: a flag row takes 7. */
const FLAGS_PER_INSERT = 14;

/** The contact guard's findings among `messages`, as `message_flags` rows for admins. */
function contactFlags(db: Database, bookingId: string, messages: StoredMessage[]) {
  const rows: NewFlag[] = messages
    .filter((m) => m.contacts?.length)
    .map((m) => ({
      kind: "contact",
      bookingId,
      seq: m.seq,
      senderId: m.senderId,
      reporterId: "",
      reason: (m.contacts ?? []).join(","),
      createdAt: m.createdAt,
    }));
  const inserts = [];
  for (let i = 0; i < rows.length; i += FLAGS_PER_INSERT)
    inserts.push(insertFlags(db, rows.slice(i, i + FLAGS_PER_INSERT)));
  return inserts;
}

type D1BookingRow = typeof bookings.$inferInsert;
/** Every D1 column is a room column of the same name; a new D1 column without one does not compile. */
const D1_BOOKING_KEYS: (keyof D1BookingRow & keyof BookingRecord)[] = Object.keys(
  getTableColumns(bookings),
) as (keyof D1BookingRow)[];

/** The booking as D1 keeps it: the room's row without the tokens themselves. */
/** A booking's message as D1 keeps it. */
export function bookingMessageRow(bookingId: string, m: StoredMessage): D1MessageRow {
  return { ...m, chatType: "booking", conversationId: bookingId, isRead: false };
}

/** Brings D1's copy of the booking row up to `record`, unless D1 already has a later version. */
export function mirrorBooking(db: Database, record: BookingRecord) {
  const row = toD1Booking(record);
  const { id: _id, createdAt: _createdAt, ...changes } = row;
  return db
    .insert(bookings)
    .values(row)
    .onConflictDoUpdate({
      target: bookings.id,
      set: changes,
      setWhere: sql`excluded.version > ${bookings.version}`,
    });
}

function toD1Booking(record: BookingRecord): D1BookingRow {
  return Object.fromEntries(D1_BOOKING_KEYS.map((key) => [key, record[key]])) as D1BookingRow;
}
