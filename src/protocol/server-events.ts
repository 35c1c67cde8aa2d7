import * as z from "zod/mini";
import { Booking, TerminationReason } from "./booking";
import { ErrorCode } from "./errors";
import { Count, EntityId, Seq } from "./ids";
import { Message, SupportMessage } from "./message";
import { PartyRole, UserRole } from "./roles";

/** What happened to a booking, as the admin feed announces it. */
export const BookingChange = z.enum([
  "created",
  "paid",
  "accepted",
  "declined",
  "started",
  "completed",
  "cancelled",
  "frozen",
  "unfrozen",
]);
export type BookingChange = z.infer<typeof BookingChange>;

/** Schemas of the `data` of every event the server sends, by event name. */
export const serverEventData = {
  "booking-joined": z.object({
    bookingId: EntityId,
    chatActive: z.boolean(),
    role: UserRole,
    lastSeq: Count,
    /** With `sinceSeq`: the last seq this join replays; below `lastSeq`, join again from here for more. */
    replayThrough: z.optional(Count),
  }),
  "booking-chat": Message,
  "chat-error": z.object({
    code: ErrorCode,
    message: z.string(),
    bookingId: z.optional(z.string()),
    clientMessageId: z.optional(z.string()),
    /** With `rate_limited`: how long to wait before sending again. */
    retryAfterMs: z.optional(Count),
  }),
  "chat-token-received": z.object({
    bookingId: EntityId,
    role: z.literal("customer"),
    chatToken: z.string(),
    chatActive: z.boolean(),
    message: z.string(),
  }),
  "booking-accepted": z.object({ bookingId: EntityId, message: z.string() }),
  "booking-accepted-provider": z.object({
    bookingId: EntityId,
    message: z.string(),
    chatToken: z.string(),
    waitingForPayment: z.boolean(),
  }),
  "chatroom-ready": z.object({ bookingId: EntityId, chatActive: z.literal(true) }),
  "chat-terminated": z.object({
    bookingId: EntityId,
    message: z.string(),
    reason: TerminationReason,
    terminatedAt: z.string(),
  }),
  /** On the inbox socket: a new message in one of the user's bookings, from the other party. */
  "booking-chat-notification": z.object({
    bookingId: EntityId,
    seq: Seq,
    senderId: EntityId,
    senderRole: PartyRole,
    preview: z.string(),
  }),
  /** The other party is typing (or stopped). Live only; `isTyping: true` lapses after TYPING_EXPIRES_MS. */
  typing: z.object({ bookingId: EntityId, userId: EntityId, role: PartyRole, isTyping: z.boolean() }),
  /**
   * Which of the booking's parties have a connection joined to it now (admins are never listed):
   * after `booking-joined`, and whenever someone joins, leaves or drops.
   */
  presence: z.object({
    bookingId: EntityId,
    online: z.array(z.object({ userId: EntityId, role: PartyRole })),
  }),
  /** The other party read every message up to `seq`. */
  "messages-read": z.object({ bookingId: EntityId, readerId: EntityId, seq: Count }),
  /** On the admin feed: a booking changed (token-free; admins see every transition). */
  "booking-updated": z.object({
    action: BookingChange,
    booking: Booking,
  }),
  /** An admin hid message `seq`: show it as hidden (history shows it so from now on). */
  "message-hidden": z.object({ bookingId: EntityId, seq: Seq }),
  /** An admin froze (`frozen: true`) or unfroze the chat; while frozen, sends are refused with `chat_frozen`. */
  "chat-frozen": z.object({ bookingId: EntityId, frozen: z.boolean(), message: z.string() }),
  /** The runtime's answer to the client heartbeat `{"event":"ping","data":{}}`. */
  pong: z.object({}),
  /** A message in a provider's support thread, to that provider's inbox and to the admin feed. */
  "support-chat": SupportMessage,
} as const;

export type ServerEventName = keyof typeof serverEventData;
export type ServerEventPayload<K extends ServerEventName> = z.infer<(typeof serverEventData)[K]>;
export type ServerEvent = {
  [K in ServerEventName]: { event: K; data: ServerEventPayload<K> };
}[ServerEventName];

const frame = <K extends ServerEventName>(event: K) =>
  z.object({ event: z.literal(event), data: serverEventData[event] });

/** Parses a server frame; used by the client SDK and tests. */
export const ServerEvent = z.discriminatedUnion("event", [
  frame("booking-joined"),
  frame("booking-chat"),
  frame("chat-error"),
  frame("chat-token-received"),
  frame("booking-accepted"),
  frame("booking-accepted-provider"),
  frame("chatroom-ready"),
  frame("chat-terminated"),
  frame("booking-chat-notification"),
  frame("messages-read"),
  frame("typing"),
  frame("presence"),
  frame("support-chat"),
  frame("booking-updated"),
  frame("message-hidden"),
  frame("chat-frozen"),
  frame("pong"),
]);
