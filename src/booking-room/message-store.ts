import { type Message, Metadata, type PartyRole } from "../protocol";

type MessageRow = {
  seq: number;
  id: string;
  sender_id: string;
  sender_role: PartyRole;
  content: string;
  client_message_id: string | null;
  metadata: string | null;
  created_at: string;
};

export type NewMessage = {
  senderId: string;
  senderRole: PartyRole;
  content: string;
  clientMessageId: string | null;
  metadata: Metadata | null;
};

export type HistoryPage = { messages: Message[]; nextBefore: number | null };

/** The room's messages: the durable record every broadcast and D1 copy comes from. */
export class MessageStore {
  constructor(
    private readonly sql: SqlStorage,
    private readonly bookingId: string,
  ) {}

  private toMessage(row: MessageRow): Message {
    return {
      id: row.id,
      bookingId: this.bookingId,
      seq: row.seq,
      senderId: row.sender_id,
      senderRole: row.sender_role,
      content: row.content,
      chatType: "booking",
      clientMessageId: row.client_message_id,
      metadata: row.metadata === null ? null : Metadata.parse(JSON.parse(row.metadata)),
      isRead: false,
      createdAt: row.created_at,
    };
  }

  lastSeq(): number {
    return this.sql.exec<{ seq: number | null }>("SELECT MAX(seq) AS seq FROM messages").one().seq ?? 0;
  }

  /** The message this sender already sent under `clientMessageId`, if any. */
  findSent(senderId: string, clientMessageId: string): Message | null {
    const row = this.sql
      .exec<MessageRow>(
        "SELECT * FROM messages WHERE sender_id = ? AND client_message_id = ?",
        senderId,
        clientMessageId,
      )
      .toArray()[0];
    return row ? this.toMessage(row) : null;
  }

  /** Appends a message with the next seq (one more than the last: no gaps). */
  append(input: NewMessage, now: string): Message {
    const seq = this.lastSeq() + 1;
    const row: MessageRow = {
      seq,
      id: crypto.randomUUID(),
      sender_id: input.senderId,
      sender_role: input.senderRole,
      content: input.content,
      client_message_id: input.clientMessageId,
      metadata: input.metadata === null ? null : JSON.stringify(input.metadata),
      created_at: now,
    };
    this.sql.exec(
      `INSERT INTO messages (seq, id, sender_id, sender_role, content, client_message_id, metadata, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      row.seq,
      row.id,
      row.sender_id,
      row.sender_role,
      row.content,
      row.client_message_id,
      row.metadata,
      row.created_at,
    );
    return this.toMessage(row);
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
    const hasOlder =
      first !== undefined &&
      this.sql
        .exec<{ n: number }>(
          "SELECT COUNT(*) AS n FROM (SELECT 1 FROM messages WHERE seq < ? LIMIT 1)",
          first.seq,
        )
        .one().n > 0;
    return {
      messages: rows.map((row) => this.toMessage(row)),
      nextBefore: hasOlder && first ? first.seq : null,
    };
  }

  /** Messages D1 has not confirmed yet, oldest first. */
  unsynced(limit: number): Message[] {
    return this.sql
      .exec<MessageRow>("SELECT * FROM messages WHERE d1_synced = 0 ORDER BY seq ASC LIMIT ?", limit)
      .toArray()
      .map((row) => this.toMessage(row));
  }

  /** Marks every message up to `seq` as in D1; `unsynced` reads oldest first, so none is skipped. */
  markSyncedThrough(seq: number): void {
    this.sql.exec("UPDATE messages SET d1_synced = 1 WHERE seq <= ? AND d1_synced = 0", seq);
  }

  hasUnsynced(): boolean {
    return this.sql.exec("SELECT 1 FROM messages WHERE d1_synced = 0 LIMIT 1").toArray().length > 0;
  }
}
