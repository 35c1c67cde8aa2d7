import { and, asc, desc, gt, isNotNull, isNull, lt, ne, sql } from "drizzle-orm";
import type { DrizzleSqliteDODatabase } from "drizzle-orm/durable-sqlite";
import type { SenderRole } from "../protocol";
import { onDemand } from "../storage/on-demand";
import { RESEND_WINDOW, ResendWindow } from "./resend-window";
import { messages } from "./schema";

/** A message as every conversation stores it; each conversation presents it in its own shape. */
export type StoredMessage = typeof messages.$inferSelect;
export type NewMessage = Omit<
  StoredMessage,
  "seq" | "id" | "createdAt" | "attachments" | "contacts" | "maskedContent" | "hiddenAt" | "erasedAt"
> &
  Partial<Pick<StoredMessage, "attachments" | "contacts" | "maskedContent">>;
export type HistoryPage = { messages: StoredMessage[]; nextBefore: number | null };

export type ConversationDatabase = DrizzleSqliteDODatabase<Record<string, unknown>>;

const NEWEST_FIRST = Number.MAX_SAFE_INTEGER;
/**
 * Resend checks after a wake that look the message up in SQLite (a scan of at most RESEND_WINDOW
 * rows by primary key, in SQLite's own code) before the window is loaded into memory: a room at
 * a person's pace wakes for each message and checks once; a busy one loads once and stays warm.
 */
const LOOKUPS_BEFORE_LOADING = 2;
/** Recent messages kept in memory for the consumers that follow the log. */
const TAIL_SIZE = 256;

function queries(db: ConversationDatabase) {
  const p = (name: string) => sql.placeholder(name);
  return onDemand({
    append: () =>
      db
        .insert(messages)
        .values({
          seq: p("seq"),
          id: p("id"),
          senderId: p("senderId"),
          senderRole: p("senderRole"),
          content: p("content"),
          clientMessageId: p("clientMessageId"),
          metadata: p("metadata"),
          createdAt: p("createdAt"),
          attachments: p("attachments"),
          contacts: p("contacts"),
          maskedContent: p("maskedContent"),
          hiddenAt: p("hiddenAt"),
          erasedAt: p("erasedAt"),
        })
        .prepare(),
    newest: () => db.select().from(messages).orderBy(desc(messages.seq)).limit(1).prepare(),
    hide: () =>
      db
        .update(messages)
        .set({ hiddenAt: sql`${p("at")}` })
        .where(sql`${messages.seq} = ${p("seq")}`)
        .prepare(),
    bySeq: () =>
      db
        .select()
        .from(messages)
        .where(sql`${messages.seq} = ${p("seq")}`)
        .prepare(),
    after: () =>
      db
        .select()
        .from(messages)
        .where(gt(messages.seq, p("after")))
        .orderBy(asc(messages.seq))
        .limit(p("limit"))
        .prepare(),
    before: () =>
      db
        .select()
        .from(messages)
        .where(lt(messages.seq, p("before")))
        .orderBy(desc(messages.seq))
        .limit(p("limit"))
        .prepare(),
    resendLookup: () =>
      db
        .select()
        .from(messages)
        .where(
          and(
            gt(messages.seq, p("after")),
            sql`${messages.seq} <= ${p("through")}`,
            sql`${messages.senderId} = ${p("senderId")}`,
            sql`${messages.clientMessageId} = ${p("clientMessageId")}`,
          ),
        )
        .limit(1)
        .prepare(),
    resendTail: () =>
      db
        .select({ seq: messages.seq, senderId: messages.senderId, clientMessageId: messages.clientMessageId })
        .from(messages)
        .where(and(gt(messages.seq, p("after")), isNotNull(messages.clientMessageId)))
        .prepare(),
    countFromOthers: () =>
      db
        .select({ n: sql<number>`count(*)` })
        .from(messages)
        .where(
          and(
            gt(messages.seq, p("after")),
            sql`${messages.seq} <= ${p("through")}`,
            ne(messages.senderRole, p("role")),
          ),
        )
        .prepare(),
  });
}

/**
 * One conversation's messages in its object's SQLite: the durable record every broadcast,
 * history page and copy comes from. `seq` starts at 1 and has no gaps. A message costs one row.
 */
export class MessageLog {
  private readonly q: ReturnType<typeof queries>;
  /**
   * Read on every message, so kept in memory: the newest message, the resend window, and per
   * sender role the count of others' messages in (after, through]. Appends keep them current;
   * anything else that writes messages (a rolled-back transaction, a migration) must `forget`.
   */
  private newest: StoredMessage | null | undefined;
  /**
   * The messages appended since the object woke, newest last (at most TAIL_SIZE): consumers read
   * right behind the writer, so their reads come from here instead of SQLite.
   */
  private tail: StoredMessage[] = [];
  /** The resend window: the appends since the wake, and once loaded the whole window. */
  private readonly resends = new ResendWindow();
  /** The newest seq when this object woke: what came before is not in `resends` until loaded. */
  private wokeAtSeq: number | undefined;
  private resendLookups = 0;
  private readonly unread = new Map<SenderRole, { after: number; through: number; count: number }>();

  constructor(private readonly db: ConversationDatabase) {
    this.q = queries(db);
  }

  lastSeq(): number {
    return this.last()?.seq ?? 0;
  }

  /** The newest message, if any. */
  last(): StoredMessage | null {
    if (this.newest === undefined) {
      this.newest = this.q.newest.get() ?? null;
      this.wokeAtSeq ??= this.newest?.seq ?? 0;
    }
    return this.newest;
  }

  get(seq: number): StoredMessage | null {
    return this.q.bySeq.get({ seq }) ?? null;
  }

  /**
   * The message this sender already sent under `clientMessageId`, if it is recent enough to tell
   * (among the last RESEND_WINDOW). Nothing proportional to the history is read on a wake: the
   * appends since are in memory, and the window before them is looked up in SQLite, or loaded
   * once the room turns out to be busy.
   */
  findResend(senderId: string, clientMessageId: string): StoredMessage | null {
    const lastSeq = this.lastSeq();
    const known = this.resends.find(senderId, clientMessageId, lastSeq);
    if (known !== null) return this.get(known);
    const after = Math.max(0, lastSeq - RESEND_WINDOW);
    const through = this.wokeAtSeq ?? lastSeq;
    // Everything in the window came after the wake, or the whole window is in memory already.
    if (this.resends.isLoaded || through <= after) return null;
    if (this.resendLookups < LOOKUPS_BEFORE_LOADING) {
      this.resendLookups++;
      return this.q.resendLookup.get({ after, through, senderId, clientMessageId }) ?? null;
    }
    this.resends.load(this.q.resendTail.all({ after }));
    const seq = this.resends.find(senderId, clientMessageId, lastSeq);
    return seq === null ? null : this.get(seq);
  }

  /** Appends a message with the next seq: one row, nothing else. */
  append(input: NewMessage, now: string): StoredMessage {
    const message: StoredMessage = {
      attachments: null,
      contacts: null,
      maskedContent: null,
      ...input,
      seq: this.lastSeq() + 1,
      id: crypto.randomUUID(),
      createdAt: now,
      hiddenAt: null,
      erasedAt: null,
    };
    this.q.append.run(message);
    this.newest = message;
    this.tail.push(message);
    if (this.tail.length > 2 * TAIL_SIZE) this.tail = this.tail.slice(-TAIL_SIZE);
    this.resends.add(message);
    for (const [role, known] of this.unread) {
      if (known.through !== message.seq - 1) continue;
      known.through = message.seq;
      if (message.senderRole !== role) known.count++;
    }
    return message;
  }

  /**
   * Marks message `seq` hidden (by an admin) at `at`: the hidden copy, or null when there is no
   * such message or it already was. The copies kept in memory are replaced, not changed, so
   * whatever was serialised from the old one is not reused.
   */
  hide(seq: number, at: string): StoredMessage | null {
    const current = this.get(seq);
    if (!current || current.hiddenAt !== null) return null;
    this.q.hide.run({ seq, at });
    const hidden: StoredMessage = { ...current, hiddenAt: at };
    if (this.newest?.seq === seq) this.newest = hidden;
    const index = this.tail.findIndex((m) => m.seq === seq);
    if (index >= 0) this.tail[index] = hidden;
    return hidden;
  }

  /** Up to `limit` messages after `seq`, oldest first: what a consumer follows. */
  after(seq: number, limit: number): StoredMessage[] {
    if (seq >= this.lastSeq()) return [];
    const first = this.tail[0];
    if (first && seq >= first.seq - 1) {
      const start = seq - first.seq + 1;
      return this.tail.slice(start, start + limit);
    }
    return this.q.after.all({ after: seq, limit });
  }

  /** A page in ascending seq: after `after`, before `before`, or the newest when neither is given. */
  page(limit: number, cursor: { before?: number; after?: number }): HistoryPage {
    const rows =
      cursor.after !== undefined
        ? this.after(cursor.after, limit)
        : this.q.before.all({ before: cursor.before ?? NEWEST_FIRST, limit }).reverse();
    const first = rows[0];
    // seq has no gaps, so older messages exist exactly when the page does not start at 1.
    return { messages: rows, nextBefore: first !== undefined && first.seq > 1 ? first.seq : null };
  }

  /**
   * How many messages after `seq` were sent by someone other than `senderRole`. Asked for every
   * summary, so the last answer is kept and only newer messages are counted.
   */
  countFromOthersAfter(senderRole: SenderRole, seq: number): number {
    const known = this.unread.get(senderRole);
    const reuse = known !== undefined && known.after === seq;
    const from = reuse ? known.through : seq;
    const through = this.lastSeq();
    let count = reuse ? known.count : 0;
    if (from < through) {
      count += this.q.countFromOthers.get({ after: from, through, role: senderRole })?.n ?? 0;
    }
    this.unread.set(senderRole, { after: seq, through, count });
    return count;
  }

  /**
   * Erases every message `senderId` wrote that is not erased yet: each keeps its seq, sender and
   * time, and loses its content, metadata, files and what the contact guard kept of it. Returns
   * how many; the copies kept in memory are dropped.
   */
  eraseAuthor(senderId: string, at: string): number {
    const erased = this.db
      .update(messages)
      .set({
        content: "",
        metadata: null,
        attachments: null,
        contacts: null,
        maskedContent: null,
        erasedAt: at,
      })
      .where(and(sql`${messages.senderId} = ${senderId}`, isNull(messages.erasedAt)))
      .returning({ seq: messages.seq })
      .all();
    if (erased.length > 0) this.forget();
    return erased.length;
  }

  /** Drops what is kept in memory; the next reads go to storage. */
  forget(): void {
    this.newest = undefined;
    this.wokeAtSeq = undefined;
    this.resendLookups = 0;
    this.tail = [];
    this.resends.forget();
    this.unread.clear();
  }
}
