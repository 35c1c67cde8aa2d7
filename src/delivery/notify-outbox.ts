import { describeError } from "../log";
import { deliveryStub } from "./targets";

/**
 * One delivery to one target. `id` grows per source, so the receiver can drop a repeat. `summary`
 * is the source's current `ChatSummary` JSON for that target's user, when it changed.
 */
export type DeliveryItem = { id: number; frame: string | null; summary: string | null };

/** What a receiving object (inbox, admin feed) exposes over RPC. */
export interface DeliveryReceiver {
  deliver(source: string, items: DeliveryItem[]): Promise<void>;
}

export const NOTIFY_OUTBOX_SCHEMA = [
  `CREATE TABLE notify_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    target TEXT NOT NULL,
    frame TEXT,
    refresh_summary INTEGER NOT NULL DEFAULT 0
  )`,
];

type Row = { id: number; target: string; frame: string | null; refresh_summary: number };

const BATCH = 500;

/** Computes a target's summary at delivery time, so a burst of changes costs one summary, not one each. */
export type SummaryOf = (target: string) => string | null;

/**
 * Events waiting to reach inboxes and the admin feed, stored in the same transaction as the
 * change that caused them, so none is lost if the object dies before delivering. Delivery is
 * in order per target and at least once; receivers drop repeats by id, so users see each once.
 */
export class NotifyOutbox {
  /** Whether rows may be waiting: true after an enqueue, unknown (undefined) after a flush or a wake. */
  private mayHavePending: boolean | undefined;

  constructor(
    private readonly sql: SqlStorage,
    private readonly env: Env,
    private readonly source: string,
    private readonly summaryOf: SummaryOf = () => null,
  ) {}

  /** Queues a frame for `target`, and/or a note that its summary changed. */
  enqueue(target: string, frame: string | null, refreshSummary = false): void {
    this.enqueueAll([{ target, frame, refreshSummary }]);
  }

  /** Queues several in one statement, in order. */
  enqueueAll(entries: { target: string; frame: string | null; refreshSummary?: boolean }[]): void {
    if (entries.length === 0) return;
    this.sql.exec(
      `INSERT INTO notify_outbox (target, frame, refresh_summary) VALUES ${entries.map(() => "(?, ?, ?)").join(", ")}`,
      ...entries.flatMap((e) => [e.target, e.frame, e.refreshSummary ? 1 : 0]),
    );
    this.mayHavePending = true;
  }

  hasPending(): boolean {
    this.mayHavePending ??= this.sql.exec("SELECT 1 FROM notify_outbox LIMIT 1").toArray().length > 0;
    return this.mayHavePending;
  }

  /** Sends one batch, one call per target; returns whether every target took its share. */
  async flush(): Promise<{ ok: boolean; more: boolean }> {
    const rows = this.sql.exec<Row>("SELECT * FROM notify_outbox ORDER BY id LIMIT ?", BATCH).toArray();
    this.mayHavePending = undefined;
    if (rows.length === 0) return { ok: true, more: false };
    const byTarget = new Map<string, Row[]>();
    for (const row of rows) {
      const group = byTarget.get(row.target) ?? [];
      group.push(row);
      byTarget.set(row.target, group);
    }
    const results = await Promise.allSettled(
      [...byTarget].map(async ([target, group]) => {
        await deliveryStub(this.env, target).deliver(this.source, this.itemsFor(target, group));
        return target;
      }),
    );
    const failures = results.filter((r) => r.status === "rejected");
    if (failures.length === 0) {
      // Rows queued while the calls were out have higher ids and stay.
      this.sql.exec("DELETE FROM notify_outbox WHERE id <= ?", rows.at(-1)?.id ?? 0);
    } else {
      for (const r of results) {
        if (r.status !== "fulfilled") continue;
        const last = byTarget.get(r.value)?.at(-1);
        if (last) this.sql.exec("DELETE FROM notify_outbox WHERE target = ? AND id <= ?", r.value, last.id);
      }
    }
    this.mayHavePending = undefined;
    for (const failure of failures)
      console.error(`${this.source}: delivery failed`, describeError(failure.reason));
    return { ok: failures.length === 0, more: rows.length === BATCH };
  }

  /** Frames in order; one fresh summary on the last item when any row asked for it. */
  private itemsFor(target: string, group: Row[]): DeliveryItem[] {
    const items: DeliveryItem[] = group
      .filter((row, index) => row.frame !== null || index === group.length - 1)
      .map((row) => ({ id: row.id, frame: row.frame, summary: null }));
    const last = items.at(-1);
    if (last && group.some((row) => row.refresh_summary === 1)) last.summary = this.summaryOf(target);
    return items;
  }
}
