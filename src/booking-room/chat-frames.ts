import type { z } from "zod";
import type { Limits } from "../config";
import { contentError } from "../conversation/content";
import type { MessageLog, StoredMessage } from "../conversation/message-log";
import type { BookingChatData, ErrorCode, JoinBookingData, MarkReadData, PartyRole } from "../protocol";
import { ChatError } from "../sockets/frames";
import type { SocketState } from "../sockets/socket-state";
import { type BookingRecord, holdsChatToken, partyOf } from "./booking-store";

const OTHER_BOOKING = "Booking not found on this connection; connect to /bookings/{bookingId}/ws";
const NOT_A_PARTY = "Not a participant of this booking";

export type JoinResult = { state: SocketState; lastSeq: number; chatActive: boolean };

/** `join-booking`: parties need their own valid token; admins join any booking to watch. */
export function join(
  booking: BookingRecord | null,
  state: SocketState,
  data: z.infer<typeof JoinBookingData>,
  messages: MessageLog | null,
): JoinResult | ChatError {
  if (!booking || !messages) return new ChatError("booking_not_found", "Booking not found");
  if (data.bookingId !== booking.id) return new ChatError("booking_not_found", OTHER_BOOKING);
  if (state.role !== "admin") {
    if (partyOf(booking, state) === null) return new ChatError("not_authorized", NOT_A_PARTY);
    if (!holdsChatToken(booking, state, data.chatToken))
      return new ChatError("invalid_token", "Invalid chat token");
    if (booking.chatTerminatedAt !== null) return terminated();
  }
  return { state: { ...state, joined: true }, lastSeq: messages.lastSeq(), chatActive: booking.chatActive };
}

export type SendResult = { message: StoredMessage; party: PartyRole; duplicate: boolean };

/** `booking-chat`: every message is authorized on its own, then stored before anyone sees it. */
export function send(
  booking: BookingRecord | null,
  state: SocketState,
  data: z.infer<typeof BookingChatData>,
  messages: MessageLog | null,
  limits: Pick<Limits, "maxMessageChars">,
): SendResult | ChatError {
  const error = (code: ErrorCode, message: string) => new ChatError(code, message, data.clientMessageId);
  if (!booking || !messages) return error("booking_not_found", "Booking not found");
  if (data.bookingId !== booking.id) return error("booking_not_found", OTHER_BOOKING);
  if (!state.joined) return error("not_joined", "Join the booking before sending messages");
  const party = partyOf(booking, state);
  if (party === null)
    return error("not_authorized", "Only the booking's customer and provider can send messages");
  if (!holdsChatToken(booking, state, data.chatToken)) return error("invalid_token", "Invalid chat token");
  // A resend of a stored message is answered with the stored copy, even after the chat closed,
  // so a client that lost the acknowledgement learns its message went through.
  const stored = data.clientMessageId ? messages.findResend(state.userId, data.clientMessageId) : null;
  if (stored) return { message: stored, party, duplicate: true };
  if (booking.chatTerminatedAt !== null) return error("chat_terminated", terminated().message);
  if (!booking.chatActive) return error("chat_not_active", "Chat is not active yet");
  const invalid = contentError(data.message, data.metadata, limits.maxMessageChars);
  if (invalid) return error(invalid.code, invalid.message);
  const message = messages.append(
    {
      senderId: state.userId,
      senderRole: party,
      content: data.message,
      clientMessageId: data.clientMessageId ?? null,
      metadata: data.metadata ?? null,
    },
    new Date().toISOString(),
  );
  return { message, party, duplicate: false };
}

export type MarkReadResult = { party: PartyRole; seq: number };

/** `mark-read`: a joined party moves its own read cursor; admins only watch. */
export function markRead(
  booking: BookingRecord | null,
  state: SocketState,
  data: z.infer<typeof MarkReadData>,
  messages: MessageLog | null,
): MarkReadResult | ChatError {
  if (!booking || !messages) return new ChatError("booking_not_found", "Booking not found");
  if (data.bookingId !== booking.id) return new ChatError("booking_not_found", OTHER_BOOKING);
  if (!state.joined) return new ChatError("not_joined", "Join the booking before marking messages read");
  const party = partyOf(booking, state);
  if (party === null) {
    const why = state.role === "admin" ? "Admins can watch but their reading marks nothing" : NOT_A_PARTY;
    return new ChatError("not_authorized", why);
  }
  if (data.seq > messages.lastSeq()) {
    return new ChatError("invalid_payload", "seq is beyond the last message of this booking");
  }
  return { party, seq: data.seq };
}

function terminated(): ChatError {
  return new ChatError("chat_terminated", "Chat has been terminated for this booking");
}
