import type { MessageLog, StoredMessage } from "../conversation/message-log";
import { messageCore } from "../conversation/present";
import type { ChatSummary, Message, PartyRole } from "../protocol";
import type { BookingRecord } from "./booking-store";
import { isReadFor, type Reader, type ReadState } from "./read-state";

/**
 * A stored message as `reader` sees it (the sender, the other party or an admin); `isRead` is from
 * the reader's side. The other party reads masked text in place of contact details; a hidden
 * message shows parties only its place.
 */
export function presentMessage(
  bookingId: string,
  m: StoredMessage,
  isRead = false,
  reader: Reader = "admin",
): Message {
  const senderRole = m.senderRole === "customer" ? "customer" : "provider";
  const message: Message = { ...messageCore(m), bookingId, senderRole, chatType: "booking", isRead };
  if (m.attachments?.length) message.attachments = m.attachments;
  if (m.maskedContent !== null) {
    message.masked = true;
    if (reader !== "admin" && reader !== senderRole) message.content = m.maskedContent;
  }
  if (m.hiddenAt !== null) {
    message.hidden = true;
    if (reader !== "admin") {
      message.content = "";
      message.metadata = null;
      delete message.attachments;
    }
  }
  return message;
}

/** Whether every reader sees `m` alike (nothing masked or hidden): then one JSON serves all. */
export function seenAlike(m: StoredMessage): boolean {
  return m.maskedContent === null && m.hiddenAt === null;
}

const LIVE_JSON = new WeakMap<StoredMessage, Partial<Record<Reader, string>>>();

/**
 * A new message as `reader` hears it live (`isRead` false), as JSON, serialised once: the
 * sender's answer, the room's sockets, the hubs and the feed shard share the string (the log's
 * tail hands out the same message objects; hiding one replaces it). A message every reader sees
 * alike is serialised once for all.
 */
export function liveMessageJson(bookingId: string, m: StoredMessage, reader: Reader = "admin"): string {
  const view: Reader = seenAlike(m) ? "admin" : reader;
  let cached = LIVE_JSON.get(m);
  if (cached === undefined) {
    cached = {};
    LIVE_JSON.set(m, cached);
  }
  let json = cached[view];
  if (json === undefined) {
    json = JSON.stringify(presentMessage(bookingId, m, false, view));
    cached[view] = json;
  }
  return json;
}

const PREVIEW_CHARS = 100;

/** A message as a notification shows it to `reader`: at most 100 characters, a file named as such. */
export function previewFor(m: StoredMessage, reader: Reader): string {
  const shown = presentMessage("", m, false, reader);
  const text = [...shown.content].slice(0, PREVIEW_CHARS).join("");
  if (text.trim() !== "" || !shown.attachments?.length) return text;
  const photos = shown.attachments.every((a) => a.contentType.startsWith("image/"));
  const n = shown.attachments.length;
  return photos
    ? n === 1
      ? "Sent a photo"
      : `Sent ${n} photos`
    : n === 1
      ? "Sent a file"
      : `Sent ${n} files`;
}

/** What a room's presentations read: its booking, log and read cursors. */
export type RoomView = { booking: BookingRecord; log: MessageLog; reads: ReadState };

/** The message as `reader` sees it, `isRead` from their side. */
export function messageFor(view: RoomView, reader: Reader, m: StoredMessage): Message {
  return presentMessage(view.booking.id, m, isReadFor(reader, m, view.reads.cursors()), reader);
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
    customerId: booking.customerId,
    providerId: booking.providerId,
    status: booking.status,
    chatActive: booking.chatActive,
    lastMessage: last ? messageFor(view, party, last) : null,
    unreadCount: log.countFromOthersAfter(party, reads.cursors()[party]),
    lastActivityAt,
  };
}
