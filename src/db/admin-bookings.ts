import { and, desc, eq, type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import { type AdminBookingsQuery, type AdminBookingsResponse, Booking } from "../protocol";
import type { Database } from "./client";
import { fanOut, newestFirst } from "./fan-out";
import { bookings } from "./schema";

/** A shard's position is its last row's (createdAt, id): booking ids are unique, so the order is total. */
const Key = z.tuple([z.string(), z.string()]);
type Key = z.infer<typeof Key>;

/** One shard's page after `after`, newest first; each filter has an index in this order. */
export function bookingsPage(db: Database, q: AdminBookingsQuery, after: Key | null, limit: number) {
  const filters: SQL[] = [];
  if (q.status) filters.push(eq(bookings.status, q.status));
  if (q.customerId) filters.push(eq(bookings.customerId, q.customerId));
  if (q.providerId) filters.push(eq(bookings.providerId, q.providerId));
  if (after) filters.push(sql`(${bookings.createdAt}, ${bookings.id}) < (${after[0]}, ${after[1]})`);
  return db
    .select()
    .from(bookings)
    .where(and(...filters))
    .orderBy(desc(bookings.createdAt), desc(bookings.id))
    .limit(limit);
}

/** `GET /chat/admin/bookings`: the D1 mirror of every booking (every shard), newest first. */
export async function listBookings(
  shards: D1Database[],
  q: AdminBookingsQuery,
): Promise<AdminBookingsResponse> {
  const page = await fanOut<typeof bookings.$inferSelect, Key>({
    shards,
    limit: q.limit,
    cursor: q.cursor,
    key: Key,
    keyOf: (row) => [row.createdAt, row.id] as Key,
    page: (db, after, limit) => bookingsPage(db, q, after, limit),
    compare: (a, b) => newestFirst([a.createdAt, a.id], [b.createdAt, b.id]),
  });
  return { bookings: page.rows.map((row) => Booking.parse(row)), nextCursor: page.nextCursor };
}
