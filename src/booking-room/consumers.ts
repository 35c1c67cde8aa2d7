import { getTableColumns, sql } from "drizzle-orm";
import type { Consumer } from "../conversation/consumer";
import { D1Copy } from "../conversation/d1-copy";
import type { StoredMessage } from "../conversation/message-log";
import type { Position } from "../conversation/positions";
import { bookings } from "../db/schema";
import type { DeliveryItem } from "../delivery/items";
import { type Batch, PushConsumer } from "../delivery/push-consumer";
import {
  feedName,
  feedShardOf,
  feedStub,
  inboxName,
  inboxStub,
  sioHubStub,
  sioListenerName,
} from "../delivery/targets";
import type { Counters } from "../metering/meter";
import type { PartyRole } from "../protocol";
import { encode } from "../sockets/socket-state";
import { reaches } from "./audience";
import type { BookingEvent, BookingEvents } from "./booking-events";
import { type BookingRecord, partyId } from "./booking-store";
import { presentMessage, type RoomView, summaryFor } from "./present";
import { otherParty } from "./read-state";

/** Messages (and lifecycle events) per delivery; a receiver far behind catches up in several. */
const BATCH = 200;
const PREVIEW_CHARS = 100;

export type RoomFollowers = RoomView & { events: BookingEvents };

type Setup = {
  env: Env;
  counters: Counters;
  feedShards: number;
  view: () => RoomFollowers;
  /** Socket.IO hubs with connections joined here, and what to do when one stops listening. */
  listeners: () => number[];
  onListenerGone: (hub: number) => void;
};

/**
 * Who follows a booking's room: the D1 copy, each party's inbox and the booking's admin feed
 * shard. Each reads the room's log and lifecycle events from its own position; nothing is queued
 * per message.
 */
export function bookingConsumers(setup: Setup): Consumer[] {
  const { env, counters, feedShards, view, listeners, onListenerGone } = setup;
  const booking = view().booking;
  const source = `booking:${booking.id}`;
  const shard = feedShardOf(booking.id, feedShards);
  const inbox = (party: PartyRole) => {
    const who = { userId: partyId(booking, party), role: party };
    return new PushConsumer({
      name: inboxName(who),
      source,
      receiver: () => inboxStub(env, who),
      head: () => headOf(view(), party),
      batch: (from) => inboxBatch(view(), party, from),
      counters,
      deadLetters: env.DB,
    });
  };
  const listener = (hub: number) =>
    new PushConsumer({
      name: sioListenerName(hub),
      source: `live:${source}`,
      receiver: () => sioHubStub(env, hub),
      head: () => headOf(view(), null),
      batch: (from) => listenerBatch(view(), from),
      counters,
      deadLetters: env.DB,
      onStop: () => onListenerGone(hub),
      // Its connections hear messages as booking sockets do: at once, not on the inboxes' schedule.
      intervalMs: 0,
    });
  return [
    new D1Copy(env.DB, counters, {
      name: source,
      head: () => ({ seq: view().log.lastSeq(), event: view().booking.version, read: 0 }),
      after: (seq, limit) => view().log.after(seq, limit),
      toRow: (m) => ({ ...m, chatType: "booking", conversationId: booking.id, isRead: false }),
      mirror: (db) => {
        const row = toD1Booking(view().booking);
        const { id: _id, createdAt: _createdAt, ...changes } = row;
        return [
          db
            .insert(bookings)
            .values(row)
            .onConflictDoUpdate({
              target: bookings.id,
              set: changes,
              setWhere: sql`excluded.version > ${bookings.version}`,
            }),
        ];
      },
    }),
    inbox("customer"),
    inbox("provider"),
    new PushConsumer({
      name: feedName(shard, feedShards),
      source,
      receiver: () => feedStub(env, shard, feedShards),
      head: () => headOf(view(), null),
      batch: (from) => feedBatch(view(), from),
      counters,
      deadLetters: env.DB,
    }),
    ...listeners().map(listener),
  ];
}

/**
 * A Socket.IO hub with connections joined here: every message in full (the parties' own
 * included, as the seed's server broadcast to the whole room), and the lifecycle events meant
 * for admins, which an admin joined there hears as on a booking socket. The parties' connections
 * hear their lifecycle events through their own inboxes instead.
 */
function listenerBatch(view: RoomFollowers, from: Position): Batch {
  return everythingBatch(view, from, (event) =>
    event.notices.filter((n) => reaches(n.to, "admins")).map((n) => n.frame),
  );
}

/** How far there is to go: the newest message and event, and for an inbox the other party's reads. */
function headOf(view: RoomFollowers, party: PartyRole | null): Position {
  const read = party ? view.reads.cursors()[otherParty(party)] : 0;
  return { seq: view.log.lastSeq(), event: view.events.lastId(), read };
}

/**
 * Messages and lifecycle events after `from`, in the order they happened: an event recorded
 * after message N comes after N and before N + 1. A batch cut short by its size takes only the
 * events that happened within the messages it carries.
 */
function merged(view: RoomFollowers, from: Position) {
  const messages = view.log.after(from.seq, BATCH);
  const throughSeq = messages.at(-1)?.seq ?? from.seq;
  const complete = throughSeq >= view.log.lastSeq();
  const events = view.events.after(from.event, BATCH).filter((e) => complete || e.atSeq <= throughSeq);
  const order: ({ message: StoredMessage } | { event: BookingEvent })[] = [];
  let next = 0;
  for (const message of messages) {
    for (let e = events[next]; e && e.atSeq < message.seq; e = events[++next]) order.push({ event: e });
    order.push({ message });
  }
  for (const e of events.slice(next)) order.push({ event: e });
  return { order, throughSeq, throughEvent: events.at(-1)?.id ?? from.event };
}

/** A party's inbox: the other party's messages as notifications, the events meant for it, reads. */
function inboxBatch(view: RoomFollowers, party: PartyRole, from: Position): Batch {
  const { booking } = view;
  const { order, throughSeq, throughEvent } = merged(view, from);
  const items: DeliveryItem[] = [];
  let lastEvent: Extract<DeliveryItem, { kind: "event" }> | null = null;
  for (const entry of order) {
    if ("message" in entry) {
      const m = entry.message;
      if (m.senderRole === party) continue;
      const notification = encode("booking-chat-notification", {
        bookingId: booking.id,
        seq: m.seq,
        senderId: m.senderId,
        senderRole: otherParty(party),
        preview: [...m.content].slice(0, PREVIEW_CHARS).join(""),
      });
      items.push({ kind: "message", seq: m.seq, frame: notification });
    } else {
      const frames = entry.event.notices.filter((n) => reaches(n.to, party)).map((n) => n.frame);
      lastEvent = { kind: "event", id: entry.event.id, frames, summary: null };
      items.push(lastEvent);
    }
  }
  // The inbox keeps the summary as of the latest change: who is in the booking, and how it ended.
  if (lastEvent) lastEvent.summary = JSON.stringify(summaryFor(view, party));
  let read = from.read;
  const otherRead = view.reads.cursors()[otherParty(party)];
  if (otherRead > from.read && otherRead <= throughSeq) {
    read = otherRead;
    const readerId = partyId(booking, otherParty(party));
    const frame = encode("messages-read", { bookingId: booking.id, readerId, seq: otherRead });
    items.push({ kind: "read", seq: otherRead, frame });
  }
  return { items, through: { seq: throughSeq, event: throughEvent, read } };
}

/** The admin feed: every message in full and every change, token-free. */
function feedBatch(view: RoomFollowers, from: Position): Batch {
  return everythingBatch(view, from, (event) => [event.feedFrame]);
}

/** Every message in full, and each lifecycle event as the frames `framesOf` picks. */
function everythingBatch(
  view: RoomFollowers,
  from: Position,
  framesOf: (event: BookingEvent) => string[],
): Batch {
  const { order, throughSeq, throughEvent } = merged(view, from);
  const items: DeliveryItem[] = order.map((entry) =>
    "message" in entry
      ? {
          kind: "message",
          seq: entry.message.seq,
          frame: encode("booking-chat", presentMessage(view.booking.id, entry.message)),
        }
      : { kind: "event", id: entry.event.id, frames: framesOf(entry.event), summary: null },
  );
  return { items, through: { seq: throughSeq, event: throughEvent, read: 0 } };
}

type D1BookingRow = typeof bookings.$inferInsert;
/** Every D1 column is a room column of the same name; a new D1 column without one does not compile. */
const D1_BOOKING_KEYS: (keyof D1BookingRow & keyof BookingRecord)[] = Object.keys(
  getTableColumns(bookings),
) as (keyof D1BookingRow)[];

/** The booking as D1 keeps it: the room's row without the tokens themselves. */
function toD1Booking(record: BookingRecord): D1BookingRow {
  return Object.fromEntries(D1_BOOKING_KEYS.map((key) => [key, record[key]])) as D1BookingRow;
}
