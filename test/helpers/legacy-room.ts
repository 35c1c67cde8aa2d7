/**
 * A booking room as the first release stored it (hand-written schema steps, version 1): a flag
 * per message for D1, an outbox row per delivery. Tests build one to prove a room from then still
 * wakes up with everything it had.
 */
const LEGACY_V1 = [
  `CREATE TABLE schema_version (version INTEGER NOT NULL)`,
  `INSERT INTO schema_version (version) VALUES (1)`,
  `CREATE TABLE booking (
    id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, provider_id TEXT NOT NULL, service_id TEXT,
    scheduled_at TEXT, notes TEXT, status TEXT NOT NULL, payment_status TEXT NOT NULL,
    payment_reference TEXT, provider_accepted INTEGER NOT NULL DEFAULT 0, customer_chat_token TEXT,
    customer_token_issued_at TEXT, provider_chat_token TEXT, provider_token_issued_at TEXT,
    chat_active INTEGER NOT NULL DEFAULT 0, chat_ready_at TEXT, chat_terminated_at TEXT,
    chat_termination_reason TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1, d1_version INTEGER NOT NULL DEFAULT 0)`,
  `CREATE TABLE messages (
    seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, sender_id TEXT NOT NULL, sender_role TEXT NOT NULL,
    content TEXT NOT NULL, client_message_id TEXT, metadata TEXT, created_at TEXT NOT NULL,
    d1_synced INTEGER NOT NULL DEFAULT 0)`,
  "CREATE INDEX messages_unsynced ON messages (seq) WHERE d1_synced = 0",
  "CREATE UNIQUE INDEX messages_client_id ON messages (sender_id, client_message_id) WHERE client_message_id IS NOT NULL",
  `CREATE TABLE notify_outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, target TEXT NOT NULL, frame TEXT,
    refresh_summary INTEGER NOT NULL DEFAULT 0)`,
  `CREATE TABLE retry_state (id INTEGER PRIMARY KEY CHECK (id = 1), failures INTEGER NOT NULL DEFAULT 0, last_error_at TEXT)`,
  "INSERT INTO retry_state (id) VALUES (1)",
  `CREATE TABLE d1_stats (id INTEGER PRIMARY KEY CHECK (id = 1), flushes INTEGER NOT NULL DEFAULT 0,
    statements INTEGER NOT NULL DEFAULT 0, messages INTEGER NOT NULL DEFAULT 0)`,
  "INSERT INTO d1_stats (id) VALUES (1)",
  "CREATE TABLE read_cursors (party TEXT PRIMARY KEY, seq INTEGER NOT NULL)",
  "INSERT INTO read_cursors (party, seq) VALUES ('customer', 0), ('provider', 0)",
];

type Row = Record<string, SqlStorageValue>;

/**
 * Makes a live object's storage read as a release before schema versions stored it: without the
 * version record, so its next wake checks the schema as such an object's would.
 */
export function forgetSchemaVersion(storage: DurableObjectStorage): void {
  storage.kv.delete("schemaVersion");
}

/**
 * Rewrites a live room's storage as the first release would have held it: the same booking
 * (D1 up to date with it), and `total` messages from `senderId` of which D1 has the first
 * `syncedThrough`. Call through runInDurableObject, then evict the room.
 */
export function rewriteAsLegacyRoom(
  sql: SqlStorage,
  senderId: string,
  syncedThrough: number,
  total: number,
): void {
  const booking = sql.exec<Row>("SELECT * FROM booking").one();
  const tables = sql
    .exec<{ name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\'",
    )
    .toArray();
  for (const { name } of tables) sql.exec(`DROP TABLE "${name}"`);
  for (const statement of LEGACY_V1) sql.exec(statement);
  // Only the columns the first release had (later ones, such as chat_frozen_at, start empty).
  const legacyColumns = new Set(
    sql
      .exec<{ name: string }>("SELECT name FROM pragma_table_info('booking')")
      .toArray()
      .map((c) => c.name),
  );
  const legacy = (c: string) => c.replace("_chat_token_issued_at", "_token_issued_at");
  const columns = Object.keys(booking).filter((c) => legacyColumns.has(legacy(c)));
  // The first release named the tokens' issue times without "chat".
  sql.exec(
    `INSERT INTO booking (${columns.map(legacy).join(", ")}, d1_version) VALUES (${columns.map(() => "?").join(", ")}, ?)`,
    ...columns.map((c) => booking[c] ?? null),
    booking.version ?? 1,
  );
  for (let seq = 1; seq <= total; seq++) {
    sql.exec(
      `INSERT INTO messages (seq, id, sender_id, sender_role, content, client_message_id, metadata, created_at, d1_synced)
       VALUES (?, ?, ?, 'customer', ?, ?, NULL, ?, ?)`,
      seq,
      `${String(booking.id)}-old-${seq}`,
      senderId,
      `old ${seq}`,
      `old-client-${seq}`,
      new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(),
      seq <= syncedThrough ? 1 : 0,
    );
  }
}
