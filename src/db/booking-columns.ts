import { integer, text } from "drizzle-orm/sqlite-core";
import type { Booking, BookingStatus, PaymentStatus, TerminationReason } from "../protocol";

/**
 * A booking's columns, written once: the booking room's own row (src/booking-room/schema.ts) and
 * D1's copy (src/db/schema.ts) both spread these, so a column has one name and one SQL name in
 * both. Functions, because a column builder belongs to the one table it is built into.
 */

/** Exactly the protocol's public `Booking` (checked below): what every API shows. */
export const publicBookingColumns = () => ({
  id: text("id").primaryKey(),
  customerId: text("customer_id").notNull(),
  providerId: text("provider_id").notNull(),
  serviceId: text("service_id"),
  scheduledAt: text("scheduled_at"),
  notes: text("notes"),
  status: text("status").$type<BookingStatus>().notNull(),
  paymentStatus: text("payment_status").$type<PaymentStatus>().notNull(),
  providerAccepted: integer("provider_accepted", { mode: "boolean" }).notNull().default(false),
  chatActive: integer("chat_active", { mode: "boolean" }).notNull().default(false),
  chatTerminatedAt: text("chat_terminated_at"),
  chatTerminationReason: text("chat_termination_reason").$type<TerminationReason>(),
  chatFrozenAt: text("chat_frozen_at"),
  createdAt: text("created_at").notNull(),
  updatedAt: text("updated_at").notNull(),
});

/**
 * Bookkeeping the room and D1 both keep but never show: when each chat token was issued (never the
 * token: a copy of D1 must not open any chat), and the row's version, bumped by every change, so
 * the D1 copy never overwrites a newer version with an older one.
 */
export const bookkeepingColumns = () => ({
  customerChatTokenIssuedAt: text("customer_chat_token_issued_at"),
  providerChatTokenIssuedAt: text("provider_chat_token_issued_at"),
  version: integer("version").notNull(),
});

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** Fails to compile when the public columns and the protocol's `Booking` fields differ. */
const publicColumnsAreTheBooking: Same<keyof ReturnType<typeof publicBookingColumns>, keyof Booking> = true;
void publicColumnsAreTheBooking;
