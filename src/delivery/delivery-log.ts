import type { DeliveryItem } from "./notify-outbox";

export const DELIVERY_LOG_SCHEMA = [
  "CREATE TABLE delivery_log (source TEXT PRIMARY KEY, last_id INTEGER NOT NULL)",
];

/**
 * The receiving side of at-least-once delivery: remembers the last id per source, drops repeats.
 * Last ids are kept in memory too; call `fresh` inside a transaction that forgets on rollback.
 */
export class DeliveryLog {
  private readonly lastIds = new Map<string, number>();

  constructor(private readonly sql: SqlStorage) {}

  /** The items not seen before, in order; records them as seen. */
  fresh(source: string, items: DeliveryItem[]): DeliveryItem[] {
    const last = this.lastIds.get(source) ?? this.stored(source);
    const fresh = items.filter((item) => item.id > last);
    const newest = fresh.at(-1);
    if (newest) {
      this.sql.exec(
        "INSERT INTO delivery_log (source, last_id) VALUES (?, ?) ON CONFLICT (source) DO UPDATE SET last_id = excluded.last_id",
        source,
        newest.id,
      );
    }
    this.lastIds.set(source, newest?.id ?? last);
    return fresh;
  }

  forget(): void {
    this.lastIds.clear();
  }

  private stored(source: string): number {
    return (
      this.sql
        .exec<{ last_id: number }>("SELECT last_id FROM delivery_log WHERE source = ?", source)
        .toArray()[0]?.last_id ?? 0
    );
  }
}
