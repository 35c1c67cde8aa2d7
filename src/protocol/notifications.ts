import * as z from "zod/mini";
import { Count, EntityId } from "./ids";
import { PartyRole } from "./roles";

/**
 * The body of the notification webhook (NOTIFY_WEBHOOK_URL), sent when a message or a lifecycle
 * event is for a user with no live connection. `id` is the receiver's idempotency key: a retry
 * carries the same one. `event` names the lifecycle event (type `event`), `preview` the newest
 * message as that user would read it (type `message`, at most 100 characters), `unread` how many
 * of the other party's messages that user has not read in this booking.
 */
export const Notification = z.object({
  id: z.string(),
  type: z.enum(["message", "event"]),
  userId: EntityId,
  role: PartyRole,
  bookingId: EntityId,
  event: z.optional(z.string()),
  preview: z.optional(z.string()),
  unread: Count,
});
export type Notification = z.infer<typeof Notification>;
