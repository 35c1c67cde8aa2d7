import { ChatSummary } from "../protocol";
import { deliveryStub } from "./targets";

/** One event for one target. `id` grows per source, so the receiver can drop a repeat. */
export type DeliveryItem = { id: number; frame: string | null; summary: ChatSummary | null };

/** What a receiving object (inbox, admin feed) exposes over RPC. */
export interface DeliveryReceiver {
  deliver(source: string, items: DeliveryItem[]): Promise<void>;
}

export const NOTIFY_OUTBOX_SCHEMA = [
  `CREATE TABLE notify_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    target TEXT NOT NULL,
    frame TEXT,
    summary TEXT
  )`,
];

type Row = { id: number; target: string; frame: string | null; summary: string | null };

const BATCH = 500;

/**
 * Events waiting to reach inboxes and the admin feed, stored in the same transaction as the
 * change that caused them, so none is lost if the object dies before delivering. Delivery is
 * in order per target and at least once; receivers drop repeats by id, so users see each once.
 */
export class NotifyOutbox {
  constructor(
    private readonly sql: SqlStorage,
    private readonly env: Env,
    private readonly source: string,
  ) {}

  enqueue(target: string, frame: string | null, summary: ChatSummary | null = null): void {
    this.sql.exec(
      "INSERT INTO notify_outbox (target, frame, summary) VALUES (?, ?, ?)",
      target,
      frame,
      summary === null ? null : JSON.stringify(summary),
    );
  }

  hasPending(): boolean {
    return this.sql.exec("SELECT 1 FROM notify_outbox LIMIT 1").toArray().length > 0;
  }

  /** Sends one batch, one call per target; returns whether every target took its share. */
  async flush(): Promise<{ ok: boolean; more: boolean }> {
    const rows = this.sql.exec<Row>("SELECT * FROM notify_outbox ORDER BY id LIMIT ?", BATCH).toArray();
    if (rows.length === 0) return { ok: true, more: false };
    const byTarget = new Map<string, DeliveryItem[]>();
    for (const row of rows) {
      const items = byTarget.get(row.target) ?? [];
      items.push({ id: row.id, frame: row.frame, summary: parseSummary(row.summary) });
      byTarget.set(row.target, items);
    }
    const results = await Promise.allSettled(
      [...byTarget].map(async ([target, items]) => {
        await deliveryStub(this.env, target).deliver(this.source, items);
        const last = items.at(-1);
        if (last) this.sql.exec("DELETE FROM notify_outbox WHERE target = ? AND id <= ?", target, last.id);
      }),
    );
    const failures = results.filter((r) => r.status === "rejected");
    for (const failure of failures) console.error(`${this.source}: delivery failed`, failure.reason);
    return { ok: failures.length === 0, more: rows.length === BATCH };
  }
}

function parseSummary(raw: string | null): ChatSummary | null {
  return raw === null ? null : ChatSummary.parse(JSON.parse(raw));
}
