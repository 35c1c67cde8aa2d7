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
 *
 * Delivered rows are deleted by the next write the object makes anyway (an enqueue, or the
 * alarm), not by a write of their own: a write is a commit, and a busy conversation would pay
 * one per delivery. Until then memory says where delivery stands; after a restart the rows
 * left over are delivered again and dropped by the receivers.
 */
export class NotifyOutbox {
  /** Whether rows may be waiting: true after an enqueue, unknown (undefined) after a flush or a wake. */
  private mayHavePending: boolean | undefined;
  /** Every row up to this id has reached all its targets. */
  private deliveredThrough = 0;
  /** Rows up to this id are deleted (in a committed write, unless `forget` says otherwise). */
  private prunedThrough = 0;
  /** Stubs are reused across deliveries; one that failed is replaced, as a failed stub may be broken. */
  private readonly stubs = new Map<string, DeliveryReceiver>();

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

  /** Queues several in one statement, in order. Call inside the transaction of the change. */
  enqueueAll(entries: { target: string; frame: string | null; refreshSummary?: boolean }[]): void {
    if (entries.length === 0) return;
    this.prune();
    this.sql.exec(
      `INSERT INTO notify_outbox (target, frame, refresh_summary) VALUES ${entries.map(() => "(?, ?, ?)").join(", ")}`,
      ...entries.flatMap((e) => [e.target, e.frame, e.refreshSummary ? 1 : 0]),
    );
    this.mayHavePending = true;
  }

  /** Deletes the rows delivered so far. Enqueues do it; the alarm does it for a quiet object. */
  prune(): void {
    if (this.deliveredThrough <= this.prunedThrough) return;
    this.sql.exec("DELETE FROM notify_outbox WHERE id <= ?", this.deliveredThrough);
    this.prunedThrough = this.deliveredThrough;
  }

  /** The transaction that pruned rolled back: the rows are there again. */
  forget(): void {
    this.prunedThrough = 0;
    this.mayHavePending = undefined;
  }

  hasPending(): boolean {
    this.mayHavePending ??=
      this.sql.exec("SELECT 1 FROM notify_outbox WHERE id > ? LIMIT 1", this.deliveredThrough).toArray()
        .length > 0;
    return this.mayHavePending;
  }

  /** Sends one batch, one call per target; returns whether every target took its share. */
  async flush(): Promise<{ ok: boolean; more: boolean }> {
    const rows = this.sql
      .exec<Row>("SELECT * FROM notify_outbox WHERE id > ? ORDER BY id LIMIT ?", this.deliveredThrough, BATCH)
      .toArray();
    this.mayHavePending = undefined;
    const last = rows.at(-1);
    if (!last) return { ok: true, more: false };
    const byTarget = new Map<string, Row[]>();
    for (const row of rows) {
      const group = byTarget.get(row.target) ?? [];
      group.push(row);
      byTarget.set(row.target, group);
    }
    const targets = [...byTarget];
    const results = await Promise.allSettled(
      targets.map(([target, group]) => this.stub(target).deliver(this.source, this.itemsFor(target, group))),
    );
    const failed = targets.filter((_, i) => results[i]?.status === "rejected").map(([target]) => target);
    if (failed.length === 0) {
      // Rows queued while the calls were out have higher ids and stay.
      this.deliveredThrough = last.id;
    } else {
      // The alarm retries the failed targets; the ones that took their share lose their rows now.
      this.prune();
      for (const [target, group] of targets) {
        const delivered = group.at(-1);
        if (failed.includes(target) || !delivered) continue;
        this.sql.exec("DELETE FROM notify_outbox WHERE target = ? AND id <= ?", target, delivered.id);
      }
      for (const target of failed) this.stubs.delete(target);
    }
    this.mayHavePending = undefined;
    for (const result of results)
      if (result.status === "rejected")
        console.error(`${this.source}: delivery failed`, describeError(result.reason));
    return { ok: failed.length === 0, more: rows.length === BATCH };
  }

  private stub(target: string): DeliveryReceiver {
    let stub = this.stubs.get(target);
    if (!stub) {
      stub = deliveryStub(this.env, target);
      this.stubs.set(target, stub);
    }
    return stub;
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
