/** An object's SQLite schema as ordered steps; each step runs once, tracked by a version row. */
export type SchemaSteps = readonly (readonly string[])[];

export function hasSchema(sql: SqlStorage): boolean {
  return (
    sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").toArray()
      .length > 0
  );
}

/** Applies the steps not applied yet; call inside a transaction. Re-running is a no-op. */
export function applySchema(sql: SqlStorage, steps: SchemaSteps): void {
  sql.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
  const row = sql.exec<{ version: number }>("SELECT version FROM schema_version").toArray()[0];
  let version = row?.version ?? 0;
  if (!row) sql.exec("INSERT INTO schema_version (version) VALUES (0)");
  for (; version < steps.length; version++) {
    for (const statement of steps[version] ?? []) sql.exec(statement);
    sql.exec("UPDATE schema_version SET version = ?", version + 1);
  }
}
