import { and, desc, eq, lt, or, type SQL } from "drizzle-orm";
import { z } from "zod";
import { type AdminBookingsQuery, type AdminBookingsResponse, Booking } from "../protocol";
import type { Database } from "./client";
import { decodeCursor, encodeCursor } from "./cursor";
import { bookings } from "./schema";

/** The last row's (createdAt, id): booking ids are unique, so the order is total and pages never overlap. */
const Cursor = z.tuple([z.string(), z.string()]);

/** `GET /chat/admin/bookings`: the D1 mirror of every booking, newest first. */
export async function listBookings(db: Database, q: AdminBookingsQuery): Promise<AdminBookingsResponse> {
  const filters: SQL[] = [];
  if (q.status) filters.push(eq(bookings.status, q.status));
  if (q.customerId) filters.push(eq(bookings.customerId, q.customerId));
  if (q.providerId) filters.push(eq(bookings.providerId, q.providerId));
  if (q.cursor) {
    const [createdAt, id] = decodeCursor(Cursor, q.cursor);
    const older = or(
      lt(bookings.createdAt, createdAt),
      and(eq(bookings.createdAt, createdAt), lt(bookings.id, id)),
    );
    if (older) filters.push(older);
  }
  const rows = await db
    .select()
    .from(bookings)
    .where(and(...filters))
    .orderBy(desc(bookings.createdAt), desc(bookings.id))
    .limit(q.limit + 1);
  const shown = rows.slice(0, q.limit);
  const last = shown.at(-1);
  return {
    bookings: shown.map((row) => Booking.parse(row)),
    nextCursor: rows.length > q.limit && last ? encodeCursor([last.createdAt, last.id]) : null,
  };
}
