import { asc, gt, sql } from "drizzle-orm";
import type { DrizzleSqliteDODatabase } from "drizzle-orm/durable-sqlite";
import { onDemand } from "../storage/on-demand";
import { bookingEvents } from "./schema";

export type BookingEvent = typeof bookingEvents.$inferSelect;

/**
 * The booking's lifecycle as a log, one row per change: inboxes and the admin feed follow it by
 * cursor, as they follow the messages, so a change is written once and delivered by position.
 */
export class BookingEvents {
  private newestId: number | undefined;
  private readonly q;

  constructor(private readonly db: DrizzleSqliteDODatabase<Record<string, unknown>>) {
    this.q = onDemand({
      after: () =>
        db
          .select()
          .from(bookingEvents)
          .where(gt(bookingEvents.id, sql.placeholder("after")))
          .orderBy(asc(bookingEvents.id))
          .limit(sql.placeholder("limit"))
          .prepare(),
      newest: () =>
        db
          .select({ id: sql<number>`coalesce(max(${bookingEvents.id}), 0)` })
          .from(bookingEvents)
          .prepare(),
    });
  }

  lastId(): number {
    this.newestId ??= this.q.newest.get()?.id ?? 0;
    return this.newestId;
  }

  append(event: Omit<BookingEvent, "id">): number {
    const id = this.lastId() + 1;
    this.db
      .insert(bookingEvents)
      .values({ ...event, id })
      .run();
    this.newestId = id;
    return id;
  }

  after(id: number, limit: number): BookingEvent[] {
    // Almost always: nothing new since this consumer's last look, and no need to ask SQLite.
    if (id >= this.lastId()) return [];
    return this.q.after.all({ after: id, limit });
  }

  forget(): void {
    this.newestId = undefined;
  }
}
