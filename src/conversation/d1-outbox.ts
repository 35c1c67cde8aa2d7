import { getTableColumns, sql } from "drizzle-orm";
import { type Database, database } from "../db/client";
import { messages } from "../db/schema";
import type { MessageStore, StoredMessage } from "./message-store";

/**
 * How long an object waits after a write before flushing. D1 is a copy for reporting and admin
 * search (history is served from the object), so about two seconds of lag buy batches: a
 * conversation's messages within them share one statement and one round trip (the benchmark's
 * D1 target).
 */
const FLUSH_DELAY_MS = 2_000;

/**
 * The delay before the next flush, spread over ±25% so that conversations which got busy together
 * do not all flush at the same moment: the benchmark saw 100 rooms stall the runtime for ~100 ms
 * every two seconds.
 */
export function flushDelayMs(): number {
  return FLUSH_DELAY_MS * (0.75 + Math.random() / 2);
}

const MESSAGES_PER_FLUSH = 200;
/** Rows travel as one JSON parameter; D1 caps a value at 2 MB, so a statement carries at most this. */
const JSON_CHARS_PER_INSERT = 400_000;
const MAX_BACKOFF_MS = 5 * 60_000;

export type MessageRow = typeof messages.$inferInsert;

/** Extra rows to write along with the messages (a booking's mirror), and what to note once written. */
export type D1Mirror = { statements: (db: Database) => Query[]; written: () => void };

/** A drizzle query D1 runs as a prepared statement. */
type Query = { toSQL(): { sql: string; params: unknown[] } };

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

  private prepare(query: { sql: string; params: unknown[] }): D1PreparedStatement {
    return this.d1.prepare(query.sql).bind(...query.params);
  }

  async flush(): Promise<FlushResult> {
    const mirror = this.mirror();
    const pending = this.store.unsynced(MESSAGES_PER_FLUSH);
    if (!mirror && pending.length === 0) return { written: 0, more: false };

    const db = database(this.d1);
    const statements = mirror ? mirror.statements(db).map((item) => this.prepare(item.toSQL())) : [];
    for (const chunk of jsonChunks(pending.map(this.toRow)))
      statements.push(this.prepare(insertMessagesQuery(db, chunk)));
    if (statements.length > 0) await this.d1.batch(statements);

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

/**
 * The messages INSERT as drizzle writes it, built once: only its one JSON parameter changes
 * between flushes, and building the query walked drizzle's SQL tree on every flush (benchmark).
 */
let insertMessagesSql: string | undefined;

function insertMessagesQuery(db: Database, rowsJson: string): { sql: string; params: unknown[] } {
  insertMessagesSql ??= insertMessages(db, "[]").toSQL().sql;
  return { sql: insertMessagesSql, params: [rowsJson] };
}

/** Rows as JSON arrays of at most JSON_CHARS_PER_INSERT characters (a single larger row goes alone). */
function jsonChunks(rows: MessageRow[]): string[] {
  const chunks: string[] = [];
  let current: string[] = [];
  let chars = 0;
  for (const row of rows) {
    const json = JSON.stringify(row);
    if (current.length > 0 && chars + json.length > JSON_CHARS_PER_INSERT) {
      chunks.push(`[${current.join(",")}]`);
      current = [];
      chars = 0;
    }
    current.push(json);
    chars += json.length + 1;
  }
  if (current.length > 0) chunks.push(`[${current.join(",")}]`);
  return chunks;
}

/**
 * Inserts every row of a JSON array in one statement (D1 binds at most 100 parameters, so one
 * parameter per column would cap a statement at 8 rows). Ids are primary keys: a retry inserts nothing twice.
 */
function insertMessages(db: Database, rowsJson: string) {
  const field = (name: keyof MessageRow) => sql.raw(`json_extract(value, '$.${name}')`);
  // Columns in the table's order, as drizzle names them in `INSERT INTO messages (...)`.
  const columns = Object.keys(getTableColumns(messages)) as (keyof MessageRow)[];
  const values = sql.join(columns.map(field), sql`, `);
  // `WHERE true` keeps SQLite from reading ON CONFLICT as part of the SELECT's join.
  return db
    .insert(messages)
    .select(sql`SELECT ${values} FROM json_each(${rowsJson}) WHERE true`)
    .onConflictDoNothing();
}

/** Exponential backoff for a failing dependency, capped so a long outage is retried every few minutes. */
export function backoffMs(failures: number): number {
  return Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(failures, 10));
}
