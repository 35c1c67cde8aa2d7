/**
 * The room's own SQLite schema, versioned. Each step runs once, in order; the version row
 * makes re-running a no-op. A room gets its schema when its booking is created, so a request
 * for a booking id that does not exist leaves no storage behind.
 */
const STEPS: string[][] = [
  [
    `CREATE TABLE booking (
      id TEXT PRIMARY KEY,
      customer_id TEXT NOT NULL,
      provider_id TEXT NOT NULL,
      service_id TEXT,
      scheduled_at TEXT,
      notes TEXT,
      status TEXT NOT NULL,
      payment_status TEXT NOT NULL,
      payment_reference TEXT,
      provider_accepted INTEGER NOT NULL DEFAULT 0,
      customer_chat_token TEXT,
      customer_token_issued_at TEXT,
      provider_chat_token TEXT,
      provider_token_issued_at TEXT,
      chat_active INTEGER NOT NULL DEFAULT 0,
      chat_ready_at TEXT,
      chat_terminated_at TEXT,
      chat_termination_reason TEXT,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL,
      version INTEGER NOT NULL DEFAULT 1,
      d1_version INTEGER NOT NULL DEFAULT 0
    )`,
    `CREATE TABLE messages (
      seq INTEGER PRIMARY KEY,
      id TEXT NOT NULL UNIQUE,
      sender_id TEXT NOT NULL,
      sender_role TEXT NOT NULL,
      content TEXT NOT NULL,
      client_message_id TEXT,
      metadata TEXT,
      created_at TEXT NOT NULL,
      d1_synced INTEGER NOT NULL DEFAULT 0
    )`,
    "CREATE INDEX messages_unsynced ON messages (seq) WHERE d1_synced = 0",
    // Idempotent sends: a client message id is unique per sender within the booking.
    "CREATE UNIQUE INDEX messages_client_id ON messages (sender_id, client_message_id) WHERE client_message_id IS NOT NULL",
    `CREATE TABLE outbox_state (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      failures INTEGER NOT NULL DEFAULT 0,
      last_error_at TEXT
    )`,
    "INSERT INTO outbox_state (id) VALUES (1)",
  ],
];

export function hasRoomSchema(sql: SqlStorage): boolean {
  return (
    sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").toArray()
      .length > 0
  );
}

export function applyRoomSchema(sql: SqlStorage): void {
  sql.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
  const row = sql.exec<{ version: number }>("SELECT version FROM schema_version").toArray()[0];
  let version = row?.version ?? 0;
  if (!row) sql.exec("INSERT INTO schema_version (version) VALUES (0)");
  for (; version < STEPS.length; version++) {
    for (const statement of STEPS[version] ?? []) sql.exec(statement);
    sql.exec("UPDATE schema_version SET version = ?", version + 1);
  }
}
