import type { SqlExec } from "../storage/durable-db";
import { applyMigrations, hasMigrations, type ObjectMigrations } from "../storage/migrations";

/**
 * Brings an inbox's SQLite up to date. An inbox from before the drizzle migrations kept a
 * delivery log (now in memory, see delivery/seen.ts) and summaries without the live flag; its
 * summaries are carried over, each marked live if its chat was open.
 */
export function prepareInboxStorage(sql: SqlExec, migrations: ObjectMigrations): void {
  const legacy =
    !hasMigrations(sql) &&
    sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'delivery_log'").toArray().length >
      0;
  if (!legacy) {
    applyMigrations(sql, migrations);
    return;
  }
  sql.exec("ALTER TABLE chats RENAME TO legacy_chats");
  sql.exec("DROP INDEX IF EXISTS chats_by_activity");
  applyMigrations(sql, migrations);
  sql.exec(
    `INSERT INTO chats (booking_id, summary, live, last_activity_at, event_id)
     SELECT booking_id, summary, COALESCE(json_extract(summary, '$.chatActive'), 0), last_activity_at, 0 FROM legacy_chats`,
  );
  for (const table of ["legacy_chats", "delivery_log", "schema_version"])
    sql.exec(`DROP TABLE IF EXISTS ${table}`);
}
