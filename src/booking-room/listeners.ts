import { eq } from "drizzle-orm";
import type { DrizzleSqliteDODatabase } from "drizzle-orm/durable-sqlite";
import { listeners } from "./schema";

/**
 * The Socket.IO hubs that hold connections joined to this booking: a row each, written when the
 * first of a hub's connections joins and removed when the hub says nobody there listens any more.
 */
export class Listeners {
  private cached: number[] | undefined;

  constructor(
    private readonly db: DrizzleSqliteDODatabase<Record<string, unknown>>,
    private readonly exists: () => boolean,
  ) {}

  hubs(): number[] {
    if (this.cached === undefined) {
      this.cached = this.exists()
        ? this.db
            .select()
            .from(listeners)
            .all()
            .map((row) => row.hub)
        : [];
    }
    return this.cached;
  }

  /** Adds a hub; returns whether it is new. */
  add(hub: number): boolean {
    if (this.hubs().includes(hub)) return false;
    this.db.insert(listeners).values({ hub }).onConflictDoNothing().run();
    this.cached = [...this.hubs(), hub];
    return true;
  }

  remove(hub: number): void {
    this.db.delete(listeners).where(eq(listeners.hub, hub)).run();
    this.cached = this.hubs().filter((h) => h !== hub);
  }
}
