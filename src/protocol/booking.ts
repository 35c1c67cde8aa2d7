import { z } from "zod";
import { EntityId } from "./ids";

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
  serviceId: z.string().nullable(),
  scheduledAt: z.string().nullable(),
  notes: z.string().nullable(),
  status: BookingStatus,
  paymentStatus: PaymentStatus,
  providerAccepted: z.boolean(),
  chatActive: z.boolean(),
  chatTerminatedAt: z.string().nullable(),
  chatTerminationReason: TerminationReason.nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Booking = z.infer<typeof Booking>;

/** Body of `POST /bookings`. */
export const CreateBookingBody = z.strictObject({
  providerId: EntityId,
  serviceId: z.string().min(1).max(128).optional(),
  scheduledAt: z.iso.datetime({ offset: true }).optional(),
  notes: z.string().max(2000).optional(),
});
export type CreateBookingBody = z.infer<typeof CreateBookingBody>;

/** Optional body of `POST /bookings/:id/payment` (admin call or signed webhook). */
export const PaymentBody = z.strictObject({
  bookingId: EntityId.optional(),
  paymentReference: z.string().min(1).max(200).optional(),
});
export type PaymentBody = z.infer<typeof PaymentBody>;

/** Booking lifecycle actions exposed as `POST /bookings/:id/{action}`. */
export const BookingAction = z.enum(["accept", "decline", "start", "complete", "cancel"]);
export type BookingAction = z.infer<typeof BookingAction>;
