import type { z } from "zod";
import {
  BookingChatData,
  type ClientEvent,
  clientEventData,
  countChars,
  Envelope,
  type ErrorCode,
  JoinBookingData,
  MAX_MESSAGE_CHARS,
  MAX_METADATA_BYTES,
  type Message,
  metadataBytes,
} from "../protocol";
import { type BookingRecord, holdsChatToken, partyOf } from "./booking-store";
import type { MessageStore } from "./message-store";
import type { SocketState } from "./sockets";

/** Frames above this size are refused before parsing; a 4000-character message fits with room to spare. */
export const MAX_FRAME_BYTES = 64 * 1024;

const OTHER_BOOKING = "Booking not found on this connection; connect to /bookings/{bookingId}/ws";

export class ChatError {
  constructor(
    readonly code: ErrorCode,
    readonly message: string,
    readonly clientMessageId?: string,
  ) {}
}

const encoder = new TextEncoder();

/** UTF-8 size, computed only when the string could exceed the limit (a UTF-16 unit is at most 3 bytes). */
function frameTooLarge(raw: string): boolean {
  if (raw.length > MAX_FRAME_BYTES) return true;
  return raw.length * 3 > MAX_FRAME_BYTES && encoder.encode(raw).byteLength > MAX_FRAME_BYTES;
}

/** Turns a raw frame into a typed client event, or explains what is wrong with it. */
export function parseClientFrame(raw: string | ArrayBuffer): ClientEvent | ChatError {
  if (typeof raw !== "string") return new ChatError("invalid_payload", "Binary frames are not supported");
  if (frameTooLarge(raw)) return new ChatError("invalid_payload", "Frame is too large");
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return new ChatError("invalid_payload", "Frame is not valid JSON");
  }
  const envelope = Envelope.safeParse(json);
  if (!envelope.success) {
    return new ChatError("invalid_payload", 'Frame must be {"event": string, "data": object}');
  }
  const { event, data } = envelope.data;
  if (!Object.hasOwn(clientEventData, event))
    return new ChatError("invalid_payload", `Unknown event "${event}"`);
  if (event === "join-booking") {
    const parsed = JoinBookingData.safeParse(data);
    return parsed.success ? { event, data: parsed.data } : invalid(event, parsed.error);
  }
  const parsed = BookingChatData.safeParse(data);
  return parsed.success ? { event: "booking-chat", data: parsed.data } : invalid(event, parsed.error);
}

function invalid(event: string, error: z.ZodError): ChatError {
  const issue = error.issues[0];
  const where = issue?.path.length ? ` at ${issue.path.join(".")}` : "";
  return new ChatError("invalid_payload", `Invalid ${event} payload${where}: ${issue?.message ?? "invalid"}`);
}

export type JoinResult = { state: SocketState; lastSeq: number; chatActive: boolean };

/** `join-booking`: parties need their own valid token; admins join any booking to watch. */
export function join(
  booking: BookingRecord | null,
  state: SocketState,
  data: z.infer<typeof JoinBookingData>,
  messages: MessageStore | null,
): JoinResult | ChatError {
  if (!booking || !messages) return new ChatError("booking_not_found", "Booking not found");
  if (data.bookingId !== booking.id) return new ChatError("booking_not_found", OTHER_BOOKING);
  if (state.role !== "admin") {
    if (partyOf(booking, state) === null)
      return new ChatError("not_authorized", "Not a participant of this booking");
    if (!holdsChatToken(booking, state, data.chatToken))
      return new ChatError("invalid_token", "Invalid chat token");
    if (booking.chatTerminatedAt !== null) return terminated();
  }
  return { state: { ...state, joined: true }, lastSeq: messages.lastSeq(), chatActive: booking.chatActive };
}

export type SendResult = { message: Message; duplicate: boolean };

/** `booking-chat`: every message is authorized on its own, then stored before anyone sees it. */
export function send(
  booking: BookingRecord | null,
  state: SocketState,
  data: z.infer<typeof BookingChatData>,
  messages: MessageStore | null,
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
  const stored = data.clientMessageId ? messages.findSent(state.userId, data.clientMessageId) : null;
  if (stored) return { message: stored, duplicate: true };
  if (booking.chatTerminatedAt !== null) return error("chat_terminated", terminated().message);
  if (!booking.chatActive) return error("chat_not_active", "Chat is not active yet");
  if (data.message.trim().length === 0) return error("message_empty", "Message cannot be empty");
  if (countChars(data.message) > MAX_MESSAGE_CHARS) {
    return error("message_too_long", `Message cannot be longer than ${MAX_MESSAGE_CHARS} characters`);
  }
  if (data.metadata && metadataBytes(data.metadata) > MAX_METADATA_BYTES) {
    return error("metadata_too_large", `Metadata cannot be larger than ${MAX_METADATA_BYTES} bytes`);
  }
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
  return { message, duplicate: false };
}

function terminated(): ChatError {
  return new ChatError("chat_terminated", "Chat has been terminated for this booking");
}
