import type { DeliveryItem } from "./notify-outbox";

export const DELIVERY_LOG_SCHEMA = [
  "CREATE TABLE delivery_log (source TEXT PRIMARY KEY, last_id INTEGER NOT NULL)",
];

/** The receiving side of at-least-once delivery: remembers the last id per source, drops repeats. */
export class DeliveryLog {
  constructor(private readonly sql: SqlStorage) {}

  /** The items not seen before, in order; records them as seen. */
  fresh(source: string, items: DeliveryItem[]): DeliveryItem[] {
    const last =
      this.sql
        .exec<{ last_id: number }>("SELECT last_id FROM delivery_log WHERE source = ?", source)
        .toArray()[0]?.last_id ?? 0;
    const fresh = items.filter((item) => item.id > last);
    const newest = fresh.at(-1);
    if (newest) {
      this.sql.exec(
        "INSERT INTO delivery_log (source, last_id) VALUES (?, ?) ON CONFLICT (source) DO UPDATE SET last_id = excluded.last_id",
        source,
        newest.id,
      );
    }
    return fresh;
  }
}
