import { and, asc, eq, inArray, isNull, lt, sql } from "drizzle-orm";
import type { DrizzleSqliteDODatabase } from "drizzle-orm/durable-sqlite";
import { type Refusal, refusal } from "../errors";
import type { AttachmentRef, PartyRole } from "../protocol";
import { attachments } from "./schema";

export type AttachmentRow = typeof attachments.$inferSelect;

/** An upload no message used is deleted this long after it was made. */
export const UNUSED_ATTACHMENT_TTL_MS = 60 * 60 * 1000;

/** The public face of a stored attachment. */
export function attachmentRef(
  row: Pick<AttachmentRow, "id" | "name" | "contentType" | "size">,
): AttachmentRef {
  return { id: row.id, name: row.name, contentType: row.contentType, size: row.size };
}

/**
 * The files uploaded to a booking, in its room's SQLite (the bytes are in R2): which party
 * uploaded each, and which message used it. A message may use only its sender's own unused
 * uploads, each once; the rest expire.
 */
export class AttachmentStore {
  constructor(
    private readonly db: DrizzleSqliteDODatabase<Record<string, unknown>>,
    private readonly exists: () => boolean,
  ) {}

  add(row: Omit<AttachmentRow, "usedSeq">): void {
    this.db
      .insert(attachments)
      .values({ ...row, usedSeq: null })
      .run();
  }

  get(id: string): AttachmentRow | null {
    if (!this.exists()) return null;
    return this.db.select().from(attachments).where(eq(attachments.id, id)).get() ?? null;
  }

  /**
   * Checks that every id is an upload of `sender`'s to this booking that no message used yet,
   * named once; then marks them used by message `seq`. Call inside the transaction that appends it.
   */
  claim(ids: string[], sender: { userId: string; role: PartyRole }, seq: number): AttachmentRef[] | Refusal {
    if (new Set(ids).size !== ids.length)
      return refusal("invalid_attachment", "An attachment is named twice");
    const rows = this.db.select().from(attachments).where(inArray(attachments.id, ids)).all();
    const byId = new Map(rows.map((row) => [row.id, row]));
    const refs: AttachmentRef[] = [];
    for (const id of ids) {
      const row = byId.get(id);
      // Another party's upload and an unknown id read alike: neither is the sender's to use.
      if (!row || row.uploaderId !== sender.userId || row.uploaderRole !== sender.role) {
        return refusal("invalid_attachment", "No such attachment of yours in this booking; upload it first");
      }
      if (row.usedSeq !== null)
        return refusal("invalid_attachment", "That attachment is already in a message");
      refs.push(attachmentRef(row));
    }
    this.db.update(attachments).set({ usedSeq: seq }).where(inArray(attachments.id, ids)).run();
    return refs;
  }

  /** Unused uploads made before `cutoff` (ms since the epoch), at most `limit`. */
  expired(cutoff: number, limit = 100): AttachmentRow[] {
    if (!this.exists()) return [];
    return this.db
      .select()
      .from(attachments)
      .where(and(isNull(attachments.usedSeq), lt(attachments.createdAt, cutoff)))
      .orderBy(asc(attachments.createdAt))
      .limit(limit)
      .all();
  }

  /** Deletes these rows, unless a message used one meanwhile. */
  deleteUnused(ids: string[]): void {
    if (ids.length === 0) return;
    this.db
      .delete(attachments)
      .where(and(inArray(attachments.id, ids), isNull(attachments.usedSeq)))
      .run();
  }

  /** Every upload `userId` made to this booking, used or not. */
  byUploader(userId: string): AttachmentRow[] {
    if (!this.exists()) return [];
    return this.db.select().from(attachments).where(eq(attachments.uploaderId, userId)).all();
  }

  /** Deletes these rows, used or not (their bytes are gone). */
  delete(ids: string[]): void {
    if (ids.length === 0) return;
    this.db.delete(attachments).where(inArray(attachments.id, ids)).run();
  }

  /** When the oldest unused upload expires (ms since the epoch), or null when there is none. */
  nextExpiry(): number | null {
    if (!this.exists()) return null;
    const row = this.db
      .select({ oldest: sql<number | null>`min(${attachments.createdAt})` })
      .from(attachments)
      .where(isNull(attachments.usedSeq))
      .get();
    return row?.oldest == null ? null : row.oldest + UNUSED_ATTACHMENT_TTL_MS;
  }
}
