import { desc, eq } from "drizzle-orm";
import { ApiError } from "../errors";
import { describeError } from "../log";
import { database } from "./client";
import { adminAudit } from "./schema";

export type AuditAction =
  | "booking.join"
  | "booking.history"
  | "messages.search"
  | "bookings.list"
  | "feed.watch"
  | "support.read"
  | "support.list"
  | "dead-letters.read"
  | "audit.read"
  | "attachment.read"
  | "flags.read"
  | "message.hide"
  | "chat.freeze"
  | "chat.unfreeze"
  | "archives.list"
  | "user.export"
  | "user.erase"
  | "erasure.read"
  | "dead-letters.retry"
  | "dead-letters.discard"
  // A party's report: the one entry whose actor (`adminId`) is not an admin.
  | "message.report";

/**
 * Records that an admin is looking at users' conversations, before the access is given: when D1
 * cannot take the record, the admin is refused (503) rather than let in unrecorded.
 */
export async function recordAdminAccess(
  d1: D1Database,
  adminId: string,
  action: AuditAction,
  target: string,
): Promise<void> {
  try {
    await database(d1)
      .insert(adminAudit)
      .values({ adminId, action, target, at: new Date().toISOString() })
      .run();
  } catch (error) {
    console.error("audit: could not record an admin access", describeError(error));
    throw new ApiError("unavailable", "The audit trail cannot be written; try again shortly", {
      retryAfterMs: 5_000,
    });
  }
}

/** The newest entries first, of one admin or of all. */
export function listAdminAccess(d1: D1Database, adminId: string | undefined, limit: number) {
  const query = database(d1).select().from(adminAudit);
  const filtered = adminId ? query.where(eq(adminAudit.adminId, adminId)) : query;
  return filtered.orderBy(desc(adminAudit.id)).limit(limit);
}
