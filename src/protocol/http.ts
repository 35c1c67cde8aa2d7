import { z } from "zod";
import { Booking } from "./booking";
import { EntityId } from "./ids";
import { DEFAULT_HISTORY_LIMIT, MAX_HISTORY_LIMIT } from "./limits";
import { Message } from "./message";
import { PartyRole } from "./roles";

const SeqCursor = z.coerce.number().int().nonnegative();

/** Query of `GET /chat/booking/:id`. `before` and `after` are seq cursors; at most one at a time. */
export const HistoryQuery = z
  .strictObject({
    limit: z.coerce.number().int().min(1).max(MAX_HISTORY_LIMIT).default(DEFAULT_HISTORY_LIMIT),
    before: SeqCursor.optional(),
    after: SeqCursor.optional(),
  })
  .refine((q) => q.before === undefined || q.after === undefined, {
    message: "use either before or after, not both",
  });
export type HistoryQuery = z.infer<typeof HistoryQuery>;

export const HistoryResponse = z.object({
  bookingId: EntityId,
  chatActive: z.boolean(),
  chatTerminatedAt: z.string().nullable(),
  messages: z.array(Message),
  /** Pass as `before` to get the previous page; null when this page starts at the first message. */
  nextBefore: z.number().int().nullable(),
});
export type HistoryResponse = z.infer<typeof HistoryResponse>;

export const ChatTokenResponse = z.object({
  bookingId: EntityId,
  role: PartyRole,
  chatToken: z.string(),
  chatActive: z.boolean(),
});
export type ChatTokenResponse = z.infer<typeof ChatTokenResponse>;

export const BookingResponse = z.object({ booking: Booking });
export const AcceptResponse = z.object({
  booking: Booking,
  chatToken: z.string(),
  waitingForPayment: z.boolean(),
});
export type AcceptResponse = z.infer<typeof AcceptResponse>;
