import { z } from "zod";
import { ApiError } from "../errors";
import { type Database, database } from "./client";
import { decodeCursor, encodeCursor } from "./cursor";

/**
 * A page of one listing over every D1 shard, merged in one order. Each shard is asked for a page
 * after its own position, and the cursor carries every shard's position (the last row of that
 * shard the caller saw, `null` before its first, `false` once it has nothing more), so pages never
 * overlap or skip whatever the shards hold and however rows interleave between them.
 *
 * Reads go through D1 sessions (read replication, where a database has replicas): the first page
 * from any replica, each later one from a replica at least as recent as the one before (each
 * session's bookmark travels in the cursor), so paging never goes back in time. A listing may lag
 * the primary by the replicas' delay, on top of the D1 copy's own delay.
 */
export type FanOut<Row, Key> = {
  shards: D1Database[];
  limit: number;
  cursor: string | undefined;
  /** How a position is checked when it comes back in a cursor. */
  key: z.ZodType<Key>;
  keyOf: (row: Row) => Key;
  /** Up to `limit` rows of one shard after `after` (from its start when null), in the listing's order. */
  page: (db: Database, after: Key | null, limit: number) => PromiseLike<Row[]>;
  /** The listing's order: negative when `a` comes first. Ties between shards go to the lower shard. */
  compare: (a: Row, b: Row) => number;
};

type Position<Key> = Key | null | false;

export async function fanOut<Row, Key>(
  q: FanOut<Row, Key>,
): Promise<{ rows: Row[]; nextCursor: string | null }> {
  const { positions, bookmarks } = q.cursor
    ? decodeCursorOf(q)
    : {
        positions: q.shards.map((): Position<Key> => null),
        bookmarks: q.shards.map((): string | null => null),
      };
  const sessions = q.shards.map((shard, index) => openSession(shard, bookmarks[index] ?? null));
  const pages = await Promise.all(
    sessions.map((session, index) => {
      const after = positions[index];
      return after === false ? ([] as Row[]) : q.page(database(session), after ?? null, q.limit + 1);
    }),
  );
  const merged = pages
    .flatMap((rows, shard) => rows.map((row) => ({ row, shard })))
    .sort((a, b) => q.compare(a.row, b.row) || a.shard - b.shard)
    .slice(0, q.limit);
  const taken = pages.map(() => 0);
  for (const { row, shard } of merged) {
    taken[shard] = (taken[shard] ?? 0) + 1;
    positions[shard] = q.keyOf(row);
  }
  const boundary = merged.at(-1);
  pages.forEach((rows, shard) => {
    if (positions[shard] === false) return;
    // A shard is done when it had no more than a page and the caller has seen all of it.
    if (rows.length <= q.limit && taken[shard] === rows.length) positions[shard] = false;
    // One the page took nothing from goes on from the page's last row, not from its own start:
    // keys order every shard alike, and a row created since would otherwise appear later on.
    else if (taken[shard] === 0 && boundary) positions[shard] = q.keyOf(boundary.row);
  });
  const more = positions.some((position) => position !== false);
  const seen = sessions.map((session, index) => session.getBookmark() ?? bookmarks[index] ?? null);
  return { rows: merged.map((m) => m.row), nextCursor: more ? encodeCursor([positions, seen]) : null };
}

/** A session that reads at least as recent data as `bookmark`, or any replica's without one. */
function openSession(shard: D1Database, bookmark: string | null): D1DatabaseSession {
  try {
    return shard.withSession(bookmark ?? "first-unconstrained");
  } catch {
    throw new ApiError("invalid_request", "cursor is not valid: start from the first page");
  }
}

function decodeCursorOf<Row, Key>(q: FanOut<Row, Key>) {
  const position = z.union([z.literal(false), z.null(), q.key]);
  const [positions, bookmarks] = decodeCursor(
    z.tuple([z.array(position), z.array(z.string().max(200).nullable())]),
    q.cursor ?? "",
  );
  // A cursor from before a shard was added (or of another listing) cannot say where each shard is.
  if (positions.length !== q.shards.length || bookmarks.length !== q.shards.length) {
    throw new ApiError(
      "invalid_request",
      "cursor is not valid (the shards changed): start from the first page",
    );
  }
  return { positions: positions as Position<Key>[], bookmarks };
}

/** Compares two sort keys field by field, newest (largest) first. */
export function newestFirst(a: readonly (string | number)[], b: readonly (string | number)[]): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as string | number;
    const y = b[i] as string | number;
    if (x !== y) return x < y ? 1 : -1;
  }
  return 0;
}
