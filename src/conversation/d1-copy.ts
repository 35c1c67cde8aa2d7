import { and, eq, getTableColumns, max, sql } from "drizzle-orm";
import { type Database, database } from "../db/client";
import { bookings, messages } from "../db/schema";
import { recordDeadLetter } from "../delivery/dead-letters";
import type { Counters } from "../metering/meter";
import type { Consumer } from "./consumer";
import { longestPrefix, SuspectTracker } from "./isolate";
import type { StoredMessage } from "./message-log";
import { at, isAhead, later, type Position, positionLabel, START, type StoredPosition } from "./positions";

export type D1MessageRow = typeof messages.$inferInsert;

/** A drizzle query D1 runs as a prepared statement. */
export type Query = { toSQL(): { sql: string; params: unknown[] } };

/** What the D1 copy reads from its conversation. */
export type D1Source = {
  /** How dead letters name the conversation: `booking:{id}`, `support:{providerId}`. */
  name: string;
  /** Its key in D1's messages: `booking` and the booking id, or `admin` and the provider id. */
  chatType: "booking" | "admin";
  conversationId: string;
  /** The newest message seq and (with `mirror`) the booking row's version. */
  head(): Position;
  after(seq: number, limit: number): StoredMessage[];
  toRow(message: StoredMessage): D1MessageRow;
  /** Statements that bring D1's copy of the conversation's own row (a booking) up to date. */
  mirror?(db: Database): Query[];
  /** Statements written with these messages, in the same batch (idempotent, as the copy is): the contact guard's flags. */
  alongside?(db: Database, messages: StoredMessage[]): Query[];
  /**
   * Where D1's history starts (an ISO time; "" for always): an older message is passed over, as
   * the retention job may have archived it already and a late copy must not bring it back.
   */
  heldSince(): string;
};

const MESSAGES_PER_FLUSH = 200;
/** Rows travel as one JSON parameter; D1 caps a value at 2 MB, so a statement carries at most this. */
const JSON_CHARS_PER_INSERT = 400_000;

/**
 * Copies a conversation to D1, where admins search every message. It runs when the alarm fires
 * (up to D1_COPY_INTERVAL_MS after a write), so that a conversation's messages share statements.
 * Every write is idempotent (messages are keyed by conversation and seq, the mirror carries a
 * version), so repeating a batch after a restart writes nothing twice. How far it got is not
 * stored in the object: after a wake the first run asks D1 (one read), so a copy costs the
 * object no row. Only while something was set aside or is being retried is the position kept.
 */
export class D1Copy implements Consumer {
  readonly name = "d1";
  readonly batched = true;
  private readonly suspects = new SuspectTracker();
  /** Whether this object's position has been checked against D1 since it woke. */
  private recovered = false;
  /** Something was set aside as a dead letter: D1 alone no longer says how far the copy got. */
  private setAside = false;

  constructor(
    /** The conversation's D1 shard. */
    private readonly d1: D1Database,
    private readonly counters: Counters,
    private readonly source: D1Source,
    /** Where dead letters go: the first database, whichever shard the conversation is in. */
    private readonly deadLetters: D1Database,
  ) {}

  head(): Position {
    const head = this.source.head();
    return this.source.mirror
      ? { messages: at(head, "messages"), booking: at(head, "booking") }
      : { messages: at(head, "messages") };
  }

  restore(stored: StoredPosition | undefined): StoredPosition {
    this.recovered = false;
    // A stored position other than the start was kept because something was set aside (or by a
    // release that stored it always): D1's own newest seq may be behind it.
    this.setAside = stored !== undefined && isAhead(stored.at, START);
    return stored ?? { at: START, failures: 0, retryAt: null };
  }

  persisted(position: StoredPosition): StoredPosition | undefined {
    return this.setAside || position.failures > 0 ? position : undefined;
  }

  async run(start: Position): Promise<Position> {
    const from = this.recovered ? start : later(start, await this.recover());
    this.recovered = true;
    const head = this.head();
    const version = at(head, "booking");
    const pending = this.source.after(at(from, "messages"), MESSAGES_PER_FLUSH);
    const db = database(this.d1);
    const mirrorBehind = version > at(from, "booking") && this.source.mirror !== undefined;
    const mirror = mirrorBehind ? (this.source.mirror?.(db) ?? []).map((q) => this.prepare(q.toSQL())) : [];
    const rows = pending.map((m) => this.source.toRow(m));
    const heldSince = this.source.heldSince();
    const inserts = (n: number) => [
      ...jsonChunks(rows.slice(0, n)).map((c) => this.prepare(insertMessagesQuery(db, c, heldSince))),
      ...(this.source.alongside?.(db, pending.slice(0, n)) ?? []).map((q) => this.prepare(q.toSQL())),
    ];
    const through = (sent: number, booking: number): Position => ({
      messages: sent > 0 ? (pending[sent - 1]?.seq ?? at(from, "messages")) : at(from, "messages"),
      booking,
    });
    try {
      await this.write([...mirror, ...inserts(rows.length)]);
      this.counters.d1MessagesCopied += rows.length;
      this.suspects.cleared();
      return through(rows.length, version);
    } catch (error) {
      if (mirror.length === 0 && rows.length === 0) throw error;
      // D1 that cannot answer a trivial query is down: back off, as in any outage.
      await this.d1
        .prepare("SELECT 1")
        .first()
        .catch(() => {
          throw error;
        });
      // Something in the batch was refused: the booking row on its own, then the longest prefix of messages.
      let event = at(from, "booking");
      if (mirror.length > 0) {
        await this.write(mirror).catch((mirrorError) =>
          this.setAsideOrThrow(positionLabel("booking", version), mirrorError, { bookingVersion: version }),
        );
        event = version;
      }
      const prefix = await longestPrefix(rows.length, (n) => this.write(inserts(n)));
      this.counters.d1MessagesCopied += prefix.sent;
      if (prefix.sent > 0 || rows.length === 0) return through(prefix.sent, event);
      const first = pending[0];
      if (!first) throw prefix.error;
      await this.setAsideOrThrow(positionLabel("messages", first.seq), prefix.error, rows[0]);
      return through(1, event);
    }
  }

  /** How far D1's own copy goes: its newest seq of this conversation and, with a mirror, the row's version. */
  private async recover(): Promise<Position> {
    const db = database(this.d1);
    const { chatType, conversationId } = this.source;
    const newest = db
      .select({ seq: max(messages.seq) })
      .from(messages)
      .where(and(eq(messages.chatType, chatType), eq(messages.conversationId, conversationId)));
    this.counters.d1Statements++;
    if (!this.source.mirror) {
      const [row] = await newest;
      return { messages: row?.seq ?? 0 };
    }
    const version = db
      .select({ version: bookings.version })
      .from(bookings)
      .where(eq(bookings.id, conversationId));
    const [[row], [mirrored]] = await db.batch([newest, version]);
    return { messages: row?.seq ?? 0, booking: mirrored?.version ?? 0 };
  }

  private async write(statements: D1PreparedStatement[]): Promise<void> {
    if (statements.length === 0) return;
    const results = await this.d1.batch(statements);
    this.counters.d1Statements += statements.length;
    for (const result of results) this.counters.d1RowsWritten += result.meta.rows_written ?? 0;
  }

  /** Rethrows, unless the item has failed alone often enough and D1 takes the dead letter. */
  private async setAsideOrThrow(position: string, error: unknown, payload: unknown): Promise<void> {
    if (!this.suspects.failedAlone(position)) throw error;
    await recordDeadLetter(this.deadLetters, {
      source: this.source.name,
      consumer: this.name,
      position,
      error,
      payload,
    });
    this.setAside = true;
    this.suspects.cleared();
  }

  private prepare(query: { sql: string; params: unknown[] }): D1PreparedStatement {
    return this.d1.prepare(query.sql).bind(...query.params);
  }
}

/**
 * The messages INSERT as drizzle writes it, built once: only its one JSON parameter changes
 * between flushes, and building the query walked drizzle's SQL tree on every flush (benchmark).
 */
let insertMessagesSql: string | undefined;

function insertMessagesQuery(
  db: Database,
  rowsJson: string,
  heldSince: string,
): { sql: string; params: unknown[] } {
  insertMessagesSql ??= insertMessages(db, "[]", "").toSQL().sql;
  return { sql: insertMessagesSql, params: [rowsJson, heldSince] };
}

/** Rows as JSON arrays of at most JSON_CHARS_PER_INSERT characters (a single larger row goes alone). */
function jsonChunks(rows: D1MessageRow[]): string[] {
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
 * parameter per column would cap a statement at 9 rows). A retry inserts nothing twice.
 */
function insertMessages(db: Database, rowsJson: string, heldSince: string) {
  const field = (name: keyof D1MessageRow) => sql.raw(`json_extract(value, '$.${name}')`);
  // Columns in the table's order, as drizzle names them in `INSERT INTO messages (...)`.
  const columns = Object.keys(getTableColumns(messages)) as (keyof D1MessageRow)[];
  const values = sql.join(columns.map(field), sql`, `);
  // The WHERE clause also keeps SQLite from reading ON CONFLICT as part of the SELECT's join.
  return db
    .insert(messages)
    .select(
      sql`SELECT ${values} FROM json_each(${rowsJson}) WHERE json_extract(value, '$.createdAt') >= ${heldSince}`,
    )
    .onConflictDoNothing();
}
