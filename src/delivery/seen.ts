import { at, type Position, type Stream } from "../conversation/positions";
import type { DeliveryItem } from "./items";

const MAX_SOURCES = 10_000;

/**
 * The receiving side of at-least-once delivery: per source, how far each stream has been passed
 * on, so a batch sent again (a sender that restarted before recording how far it got) shows
 * nothing twice. Kept in memory: a source resends only what it delivered in the last seconds before
 * a restart, and this object is then still running (see docs/architecture.md).
 */
export class SeenPositions {
  private readonly seen = new Map<string, Partial<Record<Stream, number>>>();

  /** The items not seen before, in order; records them as seen. */
  fresh(source: string, items: DeliveryItem[]): DeliveryItem[] {
    const seen = this.seen.get(source) ?? {};
    const fresh: DeliveryItem[] = [];
    for (const item of items) {
      if (item.at <= at(seen as Position, item.stream)) continue;
      seen[item.stream] = item.at;
      fresh.push(item);
    }
    // Re-inserted, so the map's order is least recently delivered first.
    this.seen.delete(source);
    this.seen.set(source, seen);
    if (this.seen.size > MAX_SOURCES) {
      const oldest = this.seen.keys().next();
      if (!oldest.done) this.seen.delete(oldest.value);
    }
    return fresh;
  }

  forget(): void {
    this.seen.clear();
  }
}
