import type { SqlExec } from "../storage/durable-db";
import { applyMigrations, type ObjectMigrations } from "../storage/migrations";
import type { StoredPosition, StoredPositions } from "./positions";

/**
 * Conversations created before the schema moved to drizzle-kit migrations kept hand-written
 * schema steps in a `schema_version` table, an outbox row per delivery and a D1 flag or cursor.
 * This moves such an object onto the current schema once, on its first wake: the tables it keeps
 * (`carry`) are copied column by column, the D1 position becomes the `d1` consumer's, and the
 * outboxes are dropped (what they still held was live notifications, which are not replayed).
 */
/** Columns the current schema calls otherwise: current name, then the name a legacy table used. */
const RENAMED: Record<string, string> = {
  customer_chat_token_issued_at: "customer_token_issued_at",
  provider_chat_token_issued_at: "provider_token_issued_at",
};

export function isLegacy(sql: SqlExec): boolean {
  return tableExists(sql, "schema_version");
}

export function upgradeLegacy(sql: SqlExec, migrations: ObjectMigrations, carry: string[]): void {
  const d1: StoredPosition = {
    at: { messages: legacyD1Seq(sql), booking: legacyD1Version(sql) },
    failures: 0,
    retryAt: null,
  };
  const kept = carry.filter((table) => tableExists(sql, table));
  for (const table of kept) sql.exec(`ALTER TABLE ${table} RENAME TO legacy_${table}`);
  applyMigrations(sql, migrations);
  for (const table of kept) {
    const legacyColumns = new Set(columnsOf(sql, `legacy_${table}`));
    const sourceOf = (column: string) =>
      legacyColumns.has(column)
        ? column
        : legacyColumns.has(RENAMED[column] ?? "")
          ? RENAMED[column]
          : undefined;
    const shared = columnsOf(sql, table).filter((column) => sourceOf(column) !== undefined);
    const list = shared.map((c) => `"${c}"`).join(", ");
    const sources = shared.map((c) => `"${sourceOf(c)}"`).join(", ");
    sql.exec(`INSERT INTO ${table} (${list}) SELECT ${sources} FROM legacy_${table}`);
    sql.exec(`DROP TABLE legacy_${table}`);
  }
  const positions: StoredPositions = { d1 };
  sql.exec("INSERT INTO consumer_positions (id, positions) VALUES (1, ?)", JSON.stringify(positions));
  for (const table of ["notify_outbox", "retry_state", "d1_stats", "d1_cursor", "schema_version"]) {
    sql.exec(`DROP TABLE IF EXISTS ${table}`);
  }
}

/** How far D1 had copied the messages: a cursor (second schema step) or a flag per message (first). */
function legacyD1Seq(sql: SqlExec): number {
  if (tableExists(sql, "d1_cursor")) {
    return sql.exec<{ s: number }>("SELECT synced_through AS s FROM d1_cursor").toArray()[0]?.s ?? 0;
  }
  if (!tableExists(sql, "messages") || !columnsOf(sql, "messages").includes("d1_synced")) return 0;
  return sql.exec<{ s: number }>("SELECT COALESCE(MAX(seq), 0) AS s FROM messages WHERE d1_synced = 1").one()
    .s;
}

/** The booking version D1 had (booking rooms only). */
function legacyD1Version(sql: SqlExec): number {
  if (!tableExists(sql, "booking")) return 0;
  return sql.exec<{ v: number }>("SELECT d1_version AS v FROM booking").toArray()[0]?.v ?? 0;
}

function tableExists(sql: SqlExec, name: string): boolean {
  return sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", name).toArray().length > 0;
}

function columnsOf(sql: SqlExec, table: string): string[] {
  return sql
    .exec<{ name: string }>(`SELECT name FROM pragma_table_info('${table}')`)
    .toArray()
    .map((c) => c.name);
}
