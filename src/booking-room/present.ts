import type { MessageLog, StoredMessage } from "../conversation/message-log";
import { messageCore } from "../conversation/present";
import type { ChatSummary, Message, PartyRole } from "../protocol";
import type { BookingRecord } from "./booking-store";
import { isReadFor, type Reader, type ReadState } from "./read-state";

/** A stored message as the booking's clients see it; `isRead` is from one reader's side. */
export function presentMessage(bookingId: string, m: StoredMessage, isRead = false): Message {
  const senderRole = m.senderRole === "customer" ? "customer" : "provider";
  return { ...messageCore(m), bookingId, senderRole, chatType: "booking", isRead };
}

const LIVE_JSON = new WeakMap<StoredMessage, string>();

/**
 * A new message as everyone hears it live (`isRead` false), as JSON, serialised once: the
 * sender's answer, the room's sockets, the hubs and the feed shard share the string (the log's
 * tail hands out the same message objects).
 */
export function liveMessageJson(bookingId: string, m: StoredMessage): string {
  let json = LIVE_JSON.get(m);
  if (json === undefined) {
    json = JSON.stringify(presentMessage(bookingId, m));
    LIVE_JSON.set(m, json);
  }
  return json;
}

/** What a room's presentations read: its booking, log and read cursors. */
export type RoomView = { booking: BookingRecord; log: MessageLog; reads: ReadState };

/** The message as `reader` sees it, `isRead` from their side. */
export function messageFor(view: RoomView, reader: Reader, m: StoredMessage): Message {
  return presentMessage(view.booking.id, m, isReadFor(reader, m, view.reads.cursors()));
}

/**
 * One party's row in `GET /chat/my-chats`, derived from the log and the read cursors: the newest
 * message, and the other party's messages after this party's read cursor.
 */
export function summaryFor(view: RoomView, party: PartyRole): ChatSummary {
  const { booking, log, reads } = view;
  const last = log.last();
  const lastActivityAt = last && last.createdAt > booking.updatedAt ? last.createdAt : booking.updatedAt;
  return {
    bookingId: booking.id,
    status: booking.status,
    chatActive: booking.chatActive,
    lastMessage: last ? messageFor(view, party, last) : null,
    unreadCount: log.countFromOthersAfter(party, reads.cursors()[party]),
    lastActivityAt,
  };
}
