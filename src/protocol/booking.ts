import * as z from "zod/mini";
import { EntityId, text } from "./ids";

export const BookingStatus = z.enum([
  "pending_payment",
  "paid_to_escrow",
  "confirmed",
  "in_progress",
  "completed",
  "cancelled",
  "declined",
]);
export type BookingStatus = z.infer<typeof BookingStatus>;

export const PaymentStatus = z.enum(["pending", "paid_to_escrow"]);
export type PaymentStatus = z.infer<typeof PaymentStatus>;

export const TerminationReason = z.enum(["completed", "cancelled", "declined"]);
export type TerminationReason = z.infer<typeof TerminationReason>;

/** A booking as every API returns it. It never carries chat tokens. */
export const Booking = z.object({
  id: EntityId,
  customerId: EntityId,
  providerId: EntityId,
  serviceId: z.nullable(z.string()),
  scheduledAt: z.nullable(z.string()),
  notes: z.nullable(z.string()),
  status: BookingStatus,
  paymentStatus: PaymentStatus,
  providerAccepted: z.boolean(),
  chatActive: z.boolean(),
  chatTerminatedAt: z.nullable(z.string()),
  chatTerminationReason: z.nullable(TerminationReason),
  /** Since when an admin has frozen the chat (sends refused), or null. */
  chatFrozenAt: z.nullable(z.string()),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Booking = z.infer<typeof Booking>;

/** Body of `POST /bookings`. */
export const CreateBookingBody = z.strictObject({
  providerId: EntityId,
  serviceId: z.optional(text(1, 128)),
  scheduledAt: z.optional(z.iso.datetime({ offset: true })),
  notes: z.optional(z.string().check(z.maxLength(2000))),
});
export type CreateBookingBody = z.infer<typeof CreateBookingBody>;

/** Optional body of `POST /bookings/:id/payment` (admin call or signed webhook). */
export const PaymentBody = z.strictObject({
  bookingId: z.optional(EntityId),
  paymentReference: z.optional(text(1, 200)),
});
export type PaymentBody = z.infer<typeof PaymentBody>;

/** Booking lifecycle actions exposed as `POST /bookings/:id/{action}`. */
export const BookingAction = z.enum(["accept", "decline", "start", "complete", "cancel"]);
export type BookingAction = z.infer<typeof BookingAction>;
