import { z } from "zod";

/**
 * Booking and user ids: printable, bounded, and without `_`, because `_` separates the parts
 * of a chat token (`{bookingId}_{role}_{hash}`).
 */
export const EntityId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9\-.:@]+$/, "ids may contain only letters, digits, '-', '.', ':' and '@'");
export type EntityId = z.infer<typeof EntityId>;
