import type { BatchItem } from "drizzle-orm/batch";
import { type Database, database } from "../db/client";
import { messages } from "../db/schema";
import type { MessageStore, StoredMessage } from "./message-store";

/** How long an object waits after a write before flushing, so bursts share one D1 round trip. */
export const FLUSH_DELAY_MS = 50;
const MESSAGES_PER_FLUSH = 200;
/** D1 binds at most 100 parameters per statement; a message row binds 12. */
const ROWS_PER_INSERT = 8;
const MAX_BACKOFF_MS = 5 * 60_000;

export type MessageRow = typeof messages.$inferInsert;

/** Extra rows to write along with the messages (a booking's mirror), and what to note once written. */
export type D1Mirror = { statements: (db: Database) => BatchItem<"sqlite">[]; written: () => void };

export type FlushResult = { written: number; more: boolean };

/** Running totals of what the outbox wrote, so batching can be measured (tests, benchmark). */
export const D1_STATS_SCHEMA = [
  `CREATE TABLE d1_stats (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    flushes INTEGER NOT NULL DEFAULT 0,
    statements INTEGER NOT NULL DEFAULT 0,
    messages INTEGER NOT NULL DEFAULT 0
  )`,
  "INSERT INTO d1_stats (id) VALUES (1)",
];

export type D1Stats = { flushes: number; statements: number; messages: number };

export function readD1Stats(sql: SqlStorage): D1Stats {
  return sql.exec<D1Stats>("SELECT flushes, statements, messages FROM d1_stats").one();
}

/**
 * Copies an object's messages (and its mirror rows) to D1. The object's SQLite is the source of
 * truth; D1 is written in batches, retried until it succeeds, and every write is idempotent
 * (message ids are primary keys, mirrors carry versions) so a retry never duplicates anything.
 */
export class D1Outbox {
  constructor(
    private readonly sql: SqlStorage,
    private readonly d1: D1Database,
    private readonly store: MessageStore,
    private readonly toRow: (message: StoredMessage) => MessageRow,
    private readonly mirror: () => D1Mirror | null = () => null,
  ) {}

  hasPending(): boolean {
    return this.mirror() !== null || this.store.hasUnsynced();
  }

  async flush(): Promise<FlushResult> {
    const mirror = this.mirror();
    const pending = this.store.unsynced(MESSAGES_PER_FLUSH);
    if (!mirror && pending.length === 0) return { written: 0, more: false };

    const db = database(this.d1);
    const statements: BatchItem<"sqlite">[] = mirror ? mirror.statements(db) : [];
    for (let i = 0; i < pending.length; i += ROWS_PER_INSERT) {
      const rows = pending.slice(i, i + ROWS_PER_INSERT).map(this.toRow);
      statements.push(db.insert(messages).values(rows).onConflictDoNothing());
    }
    const [first, ...rest] = statements;
    if (first) await db.batch([first, ...rest]);

    mirror?.written();
    this.sql.exec(
      "UPDATE d1_stats SET flushes = flushes + 1, statements = statements + ?, messages = messages + ?",
      statements.length,
      pending.length,
    );
    const last = pending.at(-1);
    if (last) this.store.markSyncedThrough(last.seq);
    return { written: pending.length, more: this.hasPending() };
  }
}

/** Exponential backoff for a failing dependency, capped so a long outage is retried every few minutes. */
export function backoffMs(failures: number): number {
  return Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(failures, 10));
}
