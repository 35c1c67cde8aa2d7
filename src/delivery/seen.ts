import type { DeliveryItem } from "./items";

type Seen = { seq: number; event: number; read: number };

const MAX_SOURCES = 10_000;

/**
 * The receiving side of at-least-once delivery: per source, the newest message, event and read
 * cursor already passed on, so a batch sent again (a sender that restarted before recording how
 * far it got) shows nothing twice. Kept in memory: a source resends only what it delivered in the
 * last seconds before a restart, and this object is then still running (see docs/architecture.md).
 */
export class SeenPositions {
  private readonly seen = new Map<string, Seen>();

  /** The items not seen before, in order; records them as seen. */
  fresh(source: string, items: DeliveryItem[]): DeliveryItem[] {
    const seen = this.seen.get(source) ?? { seq: 0, event: 0, read: 0 };
    const fresh: DeliveryItem[] = [];
    for (const item of items) {
      if (item.kind === "message" && item.seq > seen.seq) seen.seq = item.seq;
      else if (item.kind === "event" && item.id > seen.event) seen.event = item.id;
      else if (item.kind === "read" && item.seq > seen.read) seen.read = item.seq;
      else continue;
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
