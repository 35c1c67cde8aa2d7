import type { SqlExec } from "./durable-db";

/**
 * Applies an object's drizzle-kit migrations (`driver: "durable-sqlite"`, see drizzle/*.config.ts)
 * synchronously, so that an object can create its schema inside the transaction that first writes
 * to it. It keeps drizzle's own bookkeeping table and rules (a migration runs when it is newer than
 * the newest one applied), so drizzle's migrator could take over unchanged.
 */
export type ObjectMigrations = {
  journal: { entries: { idx: number; when: number; tag: string }[] };
  migrations: Record<string, string>;
};

const TABLE = "__drizzle_migrations";

/** Whether this object ever created its schema; probing an unknown id must not create one. */
export function hasMigrations(sql: SqlExec): boolean {
  return (
    sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", TABLE).toArray().length > 0
  );
}

/** Runs the migrations not applied yet; call inside a transaction. Re-running is a no-op. */
export function applyMigrations(sql: SqlExec, { journal, migrations }: ObjectMigrations): void {
  sql.exec(
    `CREATE TABLE IF NOT EXISTS ${TABLE} (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at numeric)`,
  );
  const newest = sql
    .exec<{ created_at: number }>(`SELECT created_at FROM ${TABLE} ORDER BY created_at DESC LIMIT 1`)
    .toArray()[0];
  for (const entry of journal.entries) {
    if (newest && Number(newest.created_at) >= entry.when) continue;
    const source = migrations[`m${String(entry.idx).padStart(4, "0")}`];
    if (source === undefined) throw new Error(`missing migration ${entry.tag}`);
    for (const statement of source.split("--> statement-breakpoint")) {
      if (statement.trim()) sql.exec(statement);
    }
    sql.exec(`INSERT INTO ${TABLE} (hash, created_at) VALUES ('', ?)`, entry.when);
  }
}
