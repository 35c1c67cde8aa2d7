import * as z from "zod/mini";

/**
 * Booking and user ids: printable, bounded, and without `_`, because `_` separates the parts
 * of a chat token (`{bookingId}_{role}_{hash}`).
 */
export const EntityId = z
  .string()
  .check(
    z.minLength(1),
    z.maxLength(128),
    z.regex(/^[A-Za-z0-9\-.:@]+$/, "ids may contain only letters, digits, '-', '.', ':' and '@'"),
  );
export type EntityId = z.infer<typeof EntityId>;

/** A whole number of at least 0 (a count, a seq cursor that may be 0). */
export const Count = z.int().check(z.nonnegative());
/** A whole number of at least 1 (a message's seq). */
export const Seq = z.int().check(z.positive());

/** A string of `min` to `max` characters. */
export const text = (min: number, max: number) => z.string().check(z.minLength(min), z.maxLength(max));
