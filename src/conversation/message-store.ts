import { Metadata, type SenderRole } from "../protocol";

/** A message as every conversation stores it; each conversation presents it in its own shape. */
export type StoredMessage = {
  seq: number;
  id: string;
  senderId: string;
  senderRole: SenderRole;
  content: string;
  clientMessageId: string | null;
  metadata: Metadata | null;
  createdAt: string;
};

type MessageRow = {
  seq: number;
  id: string;
  sender_id: string;
  sender_role: SenderRole;
  content: string;
  client_message_id: string | null;
  metadata: string | null;
  created_at: string;
};

export type NewMessage = Omit<StoredMessage, "seq" | "id" | "createdAt">;
export type HistoryPage = { messages: StoredMessage[]; nextBefore: number | null };

/** Schema of the `messages` table as first created, for the owning object's versioned schema. */
export const MESSAGES_SCHEMA = [
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
  // Idempotent sends: a client message id is unique per sender within the conversation.
  "CREATE UNIQUE INDEX messages_client_id ON messages (sender_id, client_message_id) WHERE client_message_id IS NOT NULL",
];

/**
 * The next schema step: what D1 holds is a prefix of the messages (they are copied oldest first),
 * so one cursor replaces a flag and an index on every row, and the index on `id` (nothing looks a
 * message up by it; D1 keys on it) goes too. Every message write touched those two indexes and
 * every D1 flush rewrote its rows; the benchmark measured both. The table is rebuilt because a
 * UNIQUE constraint cannot be dropped.
 */
export const MESSAGES_CURSOR_SCHEMA = [
  `CREATE TABLE messages_v2 (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
    sender_id TEXT NOT NULL,
    sender_role TEXT NOT NULL,
    content TEXT NOT NULL,
    client_message_id TEXT,
    metadata TEXT,
    created_at TEXT NOT NULL
  )`,
  `INSERT INTO messages_v2 (seq, id, sender_id, sender_role, content, client_message_id, metadata, created_at)
   SELECT seq, id, sender_id, sender_role, content, client_message_id, metadata, created_at FROM messages`,
  "CREATE TABLE d1_cursor (id INTEGER PRIMARY KEY CHECK (id = 1), synced_through INTEGER NOT NULL)",
  "INSERT INTO d1_cursor (id, synced_through) SELECT 1, COALESCE(MAX(seq), 0) FROM messages WHERE d1_synced = 1",
  "DROP TABLE messages",
  "ALTER TABLE messages_v2 RENAME TO messages",
  "CREATE UNIQUE INDEX messages_client_id ON messages (sender_id, client_message_id) WHERE client_message_id IS NOT NULL",
];

function fromRow(row: MessageRow): StoredMessage {
  return {
    seq: row.seq,
    id: row.id,
    senderId: row.sender_id,
    senderRole: row.sender_role,
    content: row.content,
    clientMessageId: row.client_message_id,
    metadata: row.metadata === null ? null : Metadata.parse(JSON.parse(row.metadata)),
    createdAt: row.created_at,
  };
}

/**
 * One conversation's messages in its object's SQLite: the durable record every broadcast,
 * history page and D1 copy comes from. `seq` starts at 1 and has no gaps.
 */
export class MessageStore {
  /**
   * Read on every message (next seq, summaries), so kept in memory: the newest message, and per
   * sender role the count of others' messages in (after, through]. Appends keep both current; a
   * rolled-back transaction must call `forget`, as must anything else that writes messages.
   */
  private tail: { seq: number; last: StoredMessage | null } | undefined;
  private readonly unread = new Map<SenderRole, { after: number; through: number; count: number }>();
  /** The D1 cursor: every message up to this seq is in D1. */
  private synced: number | undefined;

  constructor(private readonly sql: SqlStorage) {}

  lastSeq(): number {
    return this.newest().seq;
  }

  /** The newest message, if any. */
  last(): StoredMessage | null {
    return this.newest().last;
  }

  private newest(): { seq: number; last: StoredMessage | null } {
    if (this.tail === undefined) {
      const row = this.sql.exec<MessageRow>("SELECT * FROM messages ORDER BY seq DESC LIMIT 1").toArray()[0];
      this.tail = { seq: row?.seq ?? 0, last: row ? fromRow(row) : null };
    }
    return this.tail;
  }

  /** The message this sender already sent under `clientMessageId`, if any. */
  findSent(senderId: string, clientMessageId: string): StoredMessage | null {
    const row = this.sql
      .exec<MessageRow>(
        "SELECT * FROM messages WHERE sender_id = ? AND client_message_id = ?",
        senderId,
        clientMessageId,
      )
      .toArray()[0];
    return row ? fromRow(row) : null;
  }

  /** Appends a message with the next seq. */
  append(input: NewMessage, now: string): StoredMessage {
    const message: StoredMessage = {
      ...input,
      seq: this.lastSeq() + 1,
      id: crypto.randomUUID(),
      createdAt: now,
    };
    this.sql.exec(
      `INSERT INTO messages (seq, id, sender_id, sender_role, content, client_message_id, metadata, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      message.seq,
      message.id,
      message.senderId,
      message.senderRole,
      message.content,
      message.clientMessageId,
      message.metadata === null ? null : JSON.stringify(message.metadata),
      message.createdAt,
    );
    this.tail = { seq: message.seq, last: message };
    for (const [role, known] of this.unread) {
      if (known.through !== message.seq - 1) continue;
      known.through = message.seq;
      if (message.senderRole !== role) known.count++;
    }
    return message;
  }

  /** A page in ascending seq: after `after`, before `before`, or the newest when neither is given. */
  page(limit: number, cursor: { before?: number; after?: number }): HistoryPage {
    let rows: MessageRow[];
    if (cursor.after !== undefined) {
      rows = this.sql
        .exec<MessageRow>(
          "SELECT * FROM messages WHERE seq > ? ORDER BY seq ASC LIMIT ?",
          cursor.after,
          limit,
        )
        .toArray();
    } else {
      const before = cursor.before ?? Number.MAX_SAFE_INTEGER;
      rows = this.sql
        .exec<MessageRow>("SELECT * FROM messages WHERE seq < ? ORDER BY seq DESC LIMIT ?", before, limit)
        .toArray()
        .reverse();
    }
    const first = rows[0];
    // seq has no gaps, so older messages exist exactly when the page does not start at 1.
    return {
      messages: rows.map(fromRow),
      nextBefore: first !== undefined && first.seq > 1 ? first.seq : null,
    };
  }

  /**
   * How many messages after `seq` were sent by someone other than `senderRole`. Asked on every
   * message for the inbox summaries, so the last answer is kept and only newer messages counted.
   */
  countFromOthersAfter(senderRole: SenderRole, seq: number): number {
    const known = this.unread.get(senderRole);
    const from = known && known.after === seq ? known.through : seq;
    const through = this.lastSeq();
    const counted = known && known.after === seq ? known.count : 0;
    const count =
      from === through
        ? counted
        : counted +
          this.sql
            .exec<{ n: number }>(
              "SELECT COUNT(*) AS n FROM messages WHERE seq > ? AND seq <= ? AND sender_role != ?",
              from,
              through,
              senderRole,
            )
            .one().n;
    this.unread.set(senderRole, { after: seq, through, count });
    return count;
  }

  /** Drops what is kept in memory; the next reads go to storage. */
  forget(): void {
    this.tail = undefined;
    this.synced = undefined;
    this.unread.clear();
  }

  /** Messages D1 has not confirmed yet, oldest first. */
  unsynced(limit: number): StoredMessage[] {
    return this.sql
      .exec<MessageRow>(
        "SELECT * FROM messages WHERE seq > ? ORDER BY seq ASC LIMIT ?",
        this.syncedThrough(),
        limit,
      )
      .toArray()
      .map(fromRow);
  }

  /** Notes that D1 holds every message up to `seq`; `unsynced` reads oldest first, so none is skipped. */
  markSyncedThrough(seq: number): void {
    this.sql.exec("UPDATE d1_cursor SET synced_through = MAX(synced_through, ?)", seq);
    this.synced = Math.max(this.syncedThrough(), seq);
  }

  hasUnsynced(): boolean {
    return this.lastSeq() > this.syncedThrough();
  }

  private syncedThrough(): number {
    this.synced ??= this.sql
      .exec<{ synced_through: number }>("SELECT synced_through FROM d1_cursor")
      .one().synced_through;
    return this.synced;
  }
}
