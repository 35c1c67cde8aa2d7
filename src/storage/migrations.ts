import type { Counters } from "../metering/meter";
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

/** Where an object records the schema version it is at, in its key-value storage. */
const VERSION_KEY = "schemaVersion";

/** The version a set of migrations brings an object to: its newest migration's time. */
export function schemaVersion({ journal }: ObjectMigrations): number {
  return Math.max(0, ...journal.entries.map((entry) => entry.when));
}

/**
 * Opens an object's schema when it wakes. An object already at this code's version costs one
 * key-value read and nothing else; otherwise `upgrade` runs in a transaction (its statements
 * counted as schema checks) and, if the object has a schema, the version is recorded. Returns
 * whether it has one.
 */
export function openSchema(
  storage: DurableObjectStorage,
  sql: SqlExec,
  counters: Counters,
  migrations: ObjectMigrations,
  upgrade: (sql: SqlExec) => boolean,
): boolean {
  counters.wakes++;
  if (storage.kv.get(VERSION_KEY) === schemaVersion(migrations)) return true;
  const checking: SqlExec = {
    exec(query, ...bindings) {
      counters.schemaChecks++;
      return sql.exec(query, ...bindings);
    },
  };
  return storage.transactionSync(() => {
    const exists = upgrade(checking);
    if (exists) recordSchemaVersion(storage, counters, migrations);
    return exists;
  });
}

/** Records that the object's schema is current; call inside the transaction that created or upgraded it. */
export function recordSchemaVersion(
  storage: DurableObjectStorage,
  counters: Counters,
  migrations: ObjectMigrations,
): void {
  storage.kv.put(VERSION_KEY, schemaVersion(migrations));
  counters.rowsWritten++;
}
