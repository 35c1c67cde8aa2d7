import { drizzle } from "drizzle-orm/durable-sqlite";
import type { Counters } from "../metering/meter";

/** The part of an object's SQL storage this code uses. */
export type SqlExec = Pick<SqlStorage, "exec">;

/** The object's SQL, counting the rows each statement writes (index entries included). */
export function meteredSql(sql: SqlStorage, counters: Counters): SqlExec {
  return {
    exec<T extends Record<string, SqlStorageValue>>(query: string, ...bindings: unknown[]) {
      const cursor = sql.exec<T>(query, ...bindings);
      counters.rowsWritten += cursor.rowsWritten;
      return cursor;
    },
  };
}

/**
 * Drizzle over an object's own SQLite, metered. Queries name their tables, so no schema is given:
 * drizzle would build its relational model for every object, and there are thousands of objects.
 */
export function durableDatabase(storage: DurableObjectStorage, sql: SqlExec) {
  // Drizzle's durable-sqlite session touches nothing of the storage but `sql.exec` and
  // `transactionSync`, so it is handed just those (metered).
  const client = { sql, transactionSync: <T>(run: () => T): T => storage.transactionSync(run) };
  return drizzle(client as unknown as DurableObjectStorage);
}
