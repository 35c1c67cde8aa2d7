import type { MessageStore, StoredMessage } from "../conversation/message-store";
import type { NotifyOutbox } from "../delivery/notify-outbox";
import { ADMIN_FEED, inboxOf } from "../delivery/targets";
import type { ChatSummary, Message, PartyRole, ServerEventPayload } from "../protocol";
import { encode } from "../sockets/socket-state";
import { type BookingRecord, toPublicBooking } from "./booking-store";
import type { Notice } from "./lifecycle";
import { isReadFor, otherParty, type Reader, type ReadState } from "./read-state";

/** What a room's fan-out reads from: the booking and its stores, all in the room's SQLite. */
export type RoomParts = {
  booking: BookingRecord;
  messages: MessageStore;
  reads: ReadState;
  notify: NotifyOutbox;
};

export type BookingAction = ServerEventPayload<"booking-updated">["action"];

const PREVIEW_CHARS = 100;

export function presentMessage(bookingId: string, m: StoredMessage, isRead = false): Message {
  const senderRole = m.senderRole === "customer" ? "customer" : "provider";
  return { ...m, bookingId, senderRole, chatType: "booking", isRead };
}

/** The message as `reader` sees it, `isRead` from their side. */
export function messageFor(parts: Omit<RoomParts, "notify">, reader: Reader, m: StoredMessage): Message {
  return presentMessage(parts.booking.id, m, isReadFor(reader, m, parts.reads.cursors()));
}

function partyId(booking: BookingRecord, party: PartyRole): string {
  return party === "customer" ? booking.customerId : booking.providerId;
}

function partyInbox(booking: BookingRecord, party: PartyRole) {
  return inboxOf(partyId(booking, party), party);
}

/** One party's row in `GET /chat/my-chats`, as the room knows it right now. */
export function summaryFor(parts: Omit<RoomParts, "notify">, party: PartyRole): ChatSummary {
  const { booking, messages, reads } = parts;
  const last = messages.last();
  const lastActivityAt = last && last.createdAt > booking.updatedAt ? last.createdAt : booking.updatedAt;
  return {
    bookingId: booking.id,
    status: booking.status,
    chatActive: booking.chatActive,
    lastMessage: last ? messageFor(parts, party, last) : null,
    unreadCount: messages.countFromOthersAfter(party, reads.cursors()[party]),
    lastActivityAt,
  };
}

function enqueueSummaries(parts: RoomParts): void {
  for (const party of ["customer", "provider"] as const) {
    parts.notify.enqueue(partyInbox(parts.booking, party), null, true);
  }
}

/** The summary of whichever party `target` (an inbox) belongs to, as JSON for delivery. */
export function summaryOfTarget(parts: Omit<RoomParts, "notify">, target: string): string | null {
  const { booking } = parts;
  const party =
    target === partyInbox(booking, "customer")
      ? "customer"
      : target === partyInbox(booking, "provider")
        ? "provider"
        : null;
  return party ? JSON.stringify(summaryFor({ ...parts }, party)) : null;
}

/**
 * Queues a lifecycle change for the parties' inboxes (same payloads as on the booking socket,
 * tokens only to their holder) and for the admin feed (the token-free booking).
 */
export function enqueueLifecycle(parts: RoomParts, notices: Notice[], action: BookingAction): void {
  const { booking, notify } = parts;
  for (const notice of notices) {
    const frame = JSON.stringify(notice.event);
    const parties = new Set<PartyRole>();
    for (const audience of notice.to) {
      if (audience === "customer" || audience === "provider") parties.add(audience);
      if (audience === "everyone") {
        parties.add("customer");
        parties.add("provider");
      }
    }
    for (const party of parties) notify.enqueue(partyInbox(booking, party), frame);
  }
  notify.enqueue(ADMIN_FEED, encode("booking-updated", { action, booking: toPublicBooking(booking) }));
  enqueueSummaries(parts);
}

/** Queues a new message: a notification for the recipient, fresh summaries, and the admin feed copy. */
export function enqueueMessage(parts: RoomParts, m: StoredMessage, sender: PartyRole): void {
  const { booking, notify } = parts;
  const recipient = otherParty(sender);
  const notification = encode("booking-chat-notification", {
    bookingId: booking.id,
    seq: m.seq,
    senderId: m.senderId,
    senderRole: sender,
    preview: [...m.content].slice(0, PREVIEW_CHARS).join(""),
  });
  notify.enqueueAll([
    { target: partyInbox(booking, recipient), frame: notification, refreshSummary: true },
    { target: partyInbox(booking, sender), frame: null, refreshSummary: true },
    { target: ADMIN_FEED, frame: encode("booking-chat", presentMessage(booking.id, m)) },
  ]);
}

/** Queues a read receipt for the other party and the reader's new unread count. */
export function enqueueRead(parts: RoomParts, reader: PartyRole, seq: number): void {
  const { booking, notify } = parts;
  const readerId = partyId(booking, reader);
  const frame = encode("messages-read", { bookingId: booking.id, readerId, seq });
  notify.enqueue(partyInbox(booking, otherParty(reader)), frame);
  notify.enqueue(partyInbox(booking, reader), null, true);
}
