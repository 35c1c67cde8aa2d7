import * as z from "zod/mini";
import { Count, EntityId, Seq, text } from "./ids";
import { ClientMessageId, MAX_ATTACHMENTS_PER_MESSAGE, Metadata, SupportPost } from "./message";

/** Chat tokens are bounded so a huge string cannot cost an HMAC or a compare. */
export const ChatToken = text(1, 512);

export const JoinBookingData = z.strictObject({
  bookingId: EntityId,
  chatToken: z.optional(ChatToken),
  /** Resume: replay every message after this seq, in order, before any live one. */
  sinceSeq: z.optional(Count),
});

/** An attachment's id, as `POST /chat/booking/:id/attachments` answered it. */
export const AttachmentId = text(1, 64);

export const BookingChatData = z.strictObject({
  bookingId: EntityId,
  /** The sender's own token; a missing one is refused as `invalid_token` (admins: `not_authorized`). */
  chatToken: z.optional(ChatToken),
  /** May be empty when the message carries attachments. */
  message: z.string(),
  clientMessageId: z.optional(ClientMessageId),
  metadata: z.optional(Metadata),
  /** Files the sender uploaded to this booking and no message used yet (at most 5). */
  attachments: z.optional(z.array(AttachmentId).check(z.maxLength(MAX_ATTACHMENTS_PER_MESSAGE))),
});

/** Marks every message up to `seq` as read by the sender's party. */
export const MarkReadData = z.strictObject({
  bookingId: EntityId,
  seq: Seq,
});

/**
 * Whether the sender is typing in the booking. Live only: it reaches the other party's
 * connections now, is never stored, and `isTyping: true` lapses by itself (TYPING_EXPIRES_MS).
 */
export const TypingData = z.strictObject({
  bookingId: EntityId,
  isTyping: z.boolean(),
});

/** A provider's message to the admins, sent over its inbox socket (`/me/ws`): a support post. */
export const SupportChatData = SupportPost;

/** Schemas of the `data` of every event a client may send on a booking socket, by event name. */
export const clientEventData = {
  "join-booking": JoinBookingData,
  "booking-chat": BookingChatData,
  "mark-read": MarkReadData,
  typing: TypingData,
} as const;

/** Schemas of the `data` of every event a client may send on its inbox socket. */
export const inboxEventData = {
  "support-chat": SupportChatData,
} as const;

export type ClientEventName = keyof typeof clientEventData;
export type ClientEvent = {
  [K in ClientEventName]: { event: K; data: z.infer<(typeof clientEventData)[K]> };
}[ClientEventName];

/** The envelope of every text frame, both directions. */
export const Envelope = z.object({
  event: text(1, 64),
  data: z.record(z.string(), z.unknown()),
});
