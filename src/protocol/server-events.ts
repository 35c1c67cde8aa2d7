import { z } from "zod";
import { TerminationReason } from "./booking";
import { ErrorCode } from "./errors";
import { EntityId } from "./ids";
import { Message } from "./message";
import { UserRole } from "./roles";

/** Schemas of the `data` of every event the server sends, by event name. */
export const serverEventData = {
  "booking-joined": z.object({
    bookingId: EntityId,
    chatActive: z.boolean(),
    role: UserRole,
    lastSeq: z.number().int().nonnegative(),
  }),
  "booking-chat": Message,
  "chat-error": z.object({
    code: ErrorCode,
    message: z.string(),
    bookingId: z.string().optional(),
    clientMessageId: z.string().optional(),
  }),
  "chat-token-received": z.object({
    bookingId: EntityId,
    role: z.literal("customer"),
    chatToken: z.string(),
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
]);
