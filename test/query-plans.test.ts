import { env } from "cloudflare:workers";
import { asc, eq, lt, or } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { listAdminAccess } from "../src/db/admin-audit";
import { bookingsPage } from "../src/db/admin-bookings";
import { boundedCount, messagesPage } from "../src/db/admin-messages";
import { database } from "../src/db/client";
import { flagsPage } from "../src/db/message-flags";
import { archivedSenders, bookings, erasures, messages } from "../src/db/schema";
import { supportThreadsPage } from "../src/db/support-threads";
import { countDeadLettersQuery, listDeadLetters } from "../src/delivery/dead-letters";
import type { AdminBookingsQuery, AdminFlagsQuery, AdminMessagesQuery } from "../src/protocol";

type Query = { toSQL(): { sql: string; params: unknown[] } };

/** SQLite's plan for a query, one line per step (`SCAN`, `SEARCH`, `USE TEMP B-TREE`...). */
async function plan(query: Query): Promise<string[]> {
  const { sql, params } = query.toSQL();
  const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
    .bind(...params)
    .all<{ detail: string }>();
  return results.map((row) => row.detail);
}

const TABLES = [
  "messages",
  "bookings",
  "message_flags",
  "support_threads",
  "admin_audit",
  "dead_letters",
  "erasures",
  "archived_senders",
];
/** A step that reads a table row by row, with no index to start from (a subquery's own rows are not a table). */
const FULL_SCAN = new RegExp(`^SCAN (${TABLES.join("|")})$`);

/**
 * No step scans a table. `walksInOrder`: an unfiltered listing (or count) may walk a table in its
 * rowid order, as long as nothing is sorted and the LIMIT stops it after a page.
 */
async function expectIndexed(name: string, query: Query, walksInOrder = false): Promise<string[]> {
  const steps = await plan(query);
  const why = `${name}: ${steps.join(" | ")}`;
  if (walksInOrder) {
    expect(steps.join(" | "), why).not.toContain("TEMP B-TREE");
    expect(query.toSQL().sql, why).toMatch(/ limit \?/);
    expect(query.toSQL().sql, why).not.toContain(" where ");
  } else {
    expect(
      steps.filter((step) => FULL_SCAN.test(step)),
      why,
    ).toEqual([]);
  }
  return steps;
}

/** Every subset of `options`' keys, each with its value. */
function subsets<T extends object>(options: T): Partial<T>[] {
  const keys = Object.keys(options) as (keyof T)[];
  return Array.from({ length: 2 ** keys.length }, (_, mask) =>
    Object.fromEntries(keys.filter((_, i) => mask & (1 << i)).map((k) => [k, options[k]])),
  ) as Partial<T>[];
}

const db = database(env.DB);

describe("every admin query shape uses an index", () => {
  it("message search: every combination of filters, first page and later, and its bounded count", async () => {
    const filters = {
      bookingId: "b-1",
      senderId: "u-1",
      since: "2026-01-01T00:00:00.000Z",
      until: "2026-12-01T00:00:00.000Z",
    };
    let shapes = 0;
    for (const chatType of [undefined, "booking", "admin"] as const) {
      for (const subset of subsets(filters)) {
        const q = { ...subset, ...(chatType ? { chatType } : {}), limit: 50 } as AdminMessagesQuery;
        for (const after of [null, ["2026-06-01T00:00:00.000Z", 3, "m-1"] as [string, number, string]]) {
          const steps = await expectIndexed(JSON.stringify({ q, after }), messagesPage(db, q, after, 51));
          // Newest first straight off an index: no sort of every match, except within one booking's
          // messages (found by its key, then ordered).
          if (!q.bookingId) expect(steps.join(" | "), JSON.stringify(q)).not.toContain("TEMP B-TREE");
          shapes++;
        }
        await expectIndexed(`count ${JSON.stringify(q)}`, boundedCount(db, q, 1001));
      }
    }
    expect(shapes).toBe(96);
  });

  it("support messages alone come from their own partial index", async () => {
    const steps = await plan(messagesPage(db, { chatType: "admin", limit: 50 }, null, 51));
    expect(steps.join(" | ")).toContain("messages_support_listing");
  });

  it("bookings listing: each filter, first page and later", async () => {
    const filters = { status: "confirmed", customerId: "c-1", providerId: "p-1" } as const;
    for (const subset of subsets(filters)) {
      const q = { ...subset, limit: 50 } as AdminBookingsQuery;
      for (const after of [null, ["2026-06-01T00:00:00.000Z", "b-1"] as [string, string]]) {
        const steps = await expectIndexed(JSON.stringify({ q, after }), bookingsPage(db, q, after, 51));
        expect(steps.join(" | "), JSON.stringify(q)).not.toContain("TEMP B-TREE");
      }
    }
  });

  it("flags, support threads, the audit trail, dead letters and erasures", async () => {
    for (const kind of [undefined, "contact", "report"] as const) {
      for (const bookingId of [undefined, "b-1"]) {
        for (const after of [null, ["2026-06-01T00:00:00.000Z", 7] as [string, number]]) {
          const q = { kind, bookingId, limit: 50 } as AdminFlagsQuery;
          await expectIndexed(JSON.stringify({ q, after }), flagsPage(db, q, after, 51));
        }
      }
    }
    await expectIndexed("support threads", supportThreadsPage(db));
    await expectIndexed("audit", listAdminAccess(env.DB, undefined, 50), true);
    await expectIndexed("audit of one admin", listAdminAccess(env.DB, "a-1", 50));
    await expectIndexed("dead letters", listDeadLetters(env.DB), true);
    await expectIndexed("unresolved dead letters counted", countDeadLettersQuery(env.DB));
    await expectIndexed("erasure", db.select().from(erasures).where(eq(erasures.id, "e-1")));
  });

  it("what retention, export and erasure look up", async () => {
    const cutoff = "2026-06-01T00:00:00.000Z";
    await expectIndexed(
      "expired messages, oldest first",
      db
        .select()
        .from(messages)
        .where(lt(messages.createdAt, cutoff))
        .orderBy(asc(messages.createdAt), asc(messages.seq), asc(messages.id))
        .limit(1000),
    );
    await expectIndexed(
      "a user's bookings",
      db
        .select({ id: bookings.id })
        .from(bookings)
        .where(or(eq(bookings.customerId, "u-1"), eq(bookings.providerId, "u-1"))),
    );
    await expectIndexed(
      "where a user wrote",
      db
        .selectDistinct({ chatType: messages.chatType, conversationId: messages.conversationId })
        .from(messages)
        .where(eq(messages.senderId, "u-1")),
    );
    await expectIndexed(
      "a user's archive objects",
      db.select().from(archivedSenders).where(eq(archivedSenders.senderId, "u-1")),
    );
  });
});
