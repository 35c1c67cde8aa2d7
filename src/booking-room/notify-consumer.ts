import { z } from "zod";
import type { Consumer } from "../conversation/consumer";
import type { StoredMessage } from "../conversation/message-log";
import { at, later, type Position, type StoredPosition } from "../conversation/positions";
import type { Counters } from "../metering/meter";
import { postNotification } from "../notifications/webhook";
import type { Notification, PartyRole } from "../protocol";
import { reaches } from "./audience";
import type { RoomFollowers } from "./consumers";
import { previewFor } from "./present";
import { otherParty } from "./read-state";

/** How far back a run looks for the newest message or event to name. */
const LOOK_BACK = 50;

export type NotifyOptions = {
  who: { userId: string; role: PartyRole };
  bookingId: string;
  target: { url: string; secret: string; previousSecret?: string };
  /** At most one notification per this many ms; what comes meanwhile folds into the next. */
  coalesceMs: number;
  view: () => RoomFollowers;
  /** Whether the user has a live connection: a socket on this room, their inbox, Socket.IO. */
  isLive: () => Promise<boolean>;
  counters: Counters;
  /** Where the last notification left it, kept apart from the positions the alarm records (see `run`). */
  marks: { read(name: string): Position | undefined; write(name: string, at: Position): void };
};

const NoticeFrame = z.object({ event: z.string() });

/**
 * Tells a party whose apps are all closed that something happened in the booking, by a signed
 * webhook (the app's push or e-mail service sends it on). It follows the messages and lifecycle
 * events by cursor like any consumer, so a failed call is retried with backoff from the same
 * position (with the same `id`). After a notification it holds back for `coalesceMs`: what comes
 * meanwhile is told in the next one, whose `unread` counts it. Nothing is sent while the user is
 * connected anywhere.
 */
export class NotifyConsumer implements Consumer {
  readonly name: string;
  readonly batched = false;
  /** A webhook that is slow or down delays no lifecycle answer. */
  readonly background = true;
  /** Until when it holds back after a notification (ms since the epoch). */
  private quietUntil = 0;
  /** Where the last notification left it, to know whether anything waits for the quiet to end. */
  private sentThrough: Position = {};

  constructor(private readonly options: NotifyOptions) {
    this.name = `notify:${options.who.role}:${options.who.userId}`;
  }

  head(): Position {
    // While holding back there is nothing to do: the alarm wakes it when the quiet ends.
    return Date.now() < this.quietUntil ? {} : this.end();
  }

  wakeAt(): number | null {
    if (Date.now() >= this.quietUntil) return null;
    const end = this.end();
    const waiting =
      at(end, "messages") > at(this.sentThrough, "messages") ||
      at(end, "events") > at(this.sentThrough, "events");
    return waiting ? this.quietUntil : null;
  }

  restore(stored: StoredPosition | undefined): StoredPosition {
    const base = stored ?? { at: this.end(), failures: 0, retryAt: null };
    const marked = this.options.marks.read(this.name);
    const kept = marked ? { ...base, at: later(base.at, marked) } : base;
    this.sentThrough = kept.at;
    this.quietUntil = at(kept.at, "notified") + this.options.coalesceMs;
    return kept;
  }

  async run(from: Position): Promise<Position> {
    const { who, bookingId } = this.options;
    const view = this.options.view();
    const through = { ...from, ...this.end() };
    const message = newestFrom(view, otherParty(who.role), at(from, "messages"));
    const event = newestEventFor(view, who.role, at(from, "events"));
    if (!message && !event) return through;
    if (await this.options.isLive()) return through;
    const unread = view.log.countFromOthersAfter(who.role, view.reads.cursors()[who.role]);
    if (!event && unread === 0) return through;
    const notification: Notification = {
      // The same position gives the same id: a retry is recognisably the same notification.
      id: `${bookingId}:${who.role}:m${at(from, "messages")}:e${at(from, "events")}`,
      type: event ? "event" : "message",
      userId: who.userId,
      role: who.role,
      bookingId,
      ...(event ? { event } : message ? { preview: previewFor(message, who.role) } : {}),
      unread,
    };
    this.options.counters.webhooks++;
    await postNotification(this.options.target, notification);
    const now = Date.now();
    this.quietUntil = now + this.options.coalesceMs;
    this.sentThrough = through;
    const reached = { ...through, notified: now };
    // Recorded at once (one row per notification, not per message): a room that hibernates
    // before its alarm records positions must not tell the same thing again when it wakes.
    this.options.marks.write(this.name, reached);
    return reached;
  }

  private end(): Position {
    const view = this.options.view();
    return { messages: view.log.lastSeq(), events: view.events.lastId() };
  }
}

/** The newest message after `seq` that `sender` sent and nobody hid, if any. */
function newestFrom(view: RoomFollowers, sender: PartyRole, seq: number): StoredMessage | null {
  const last = view.log.lastSeq();
  if (last <= seq) return null;
  const start = Math.max(seq, last - LOOK_BACK);
  const recent = view.log.after(start, last - start);
  return recent.findLast((m) => m.senderRole === sender && m.hiddenAt === null) ?? null;
}

/** The name of the newest lifecycle event after `id` that reaches `party`, if any. */
function newestEventFor(view: RoomFollowers, party: PartyRole, id: number): string | null {
  const events = view.events.after(Math.max(id, view.events.lastId() - LOOK_BACK), LOOK_BACK);
  for (const event of events.reverse()) {
    if (event.action === "message-hidden") continue;
    const notice = event.notices.findLast((n) => reaches(n.to, party));
    if (!notice) continue;
    const parsed = NoticeFrame.safeParse(JSON.parse(notice.frame));
    if (parsed.success) return parsed.data.event;
  }
  return null;
}
