import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { vi } from "vitest";
import { d1ShardOf, recordedShard } from "../../src/db/shards";
import { bookingRoom } from "../../src/rooms";
import type { ActiveChat } from "./flow";
import { joined } from "./socket";

/** The D1 shard a conversation created in the tests lives in (`key`: a booking id, or `support:` and a provider id). */
export function d1Of(key: string): D1Database {
  return d1ShardOf(key, 2) === 0 ? env.DB : env.DB_1;
}

/** What a conversation object holds that D1 should too: its key in D1, its newest seq, a room's booking version. */
function holds(
  state: DurableObjectState,
): { chatType: string; id: string; lastSeq: number; version: number; shard: number } | null {
  const sql = state.storage.sql;
  const shard = recordedShard(state.storage.kv);
  const has = (table: string) =>
    sql.exec("SELECT 1 FROM sqlite_master WHERE name = ?", table).toArray().length > 0;
  if (!has("messages")) return null;
  const lastSeq = sql.exec<{ s: number }>("SELECT COALESCE(MAX(seq), 0) AS s FROM messages").one().s;
  if (has("booking")) {
    const row = sql.exec<{ id: string; v: number }>("SELECT id, version AS v FROM booking").toArray()[0];
    return row ? { chatType: "booking", id: row.id, lastSeq, version: row.v, shard } : null;
  }
  const thread = sql.exec<{ id: string }>("SELECT provider_id AS id FROM thread").toArray()[0];
  return thread ? { chatType: "admin", id: thread.id, lastSeq, version: 0, shard } : null;
}

/**
 * How far D1's copy is behind the object: messages it lacks, and for a room the booking
 * versions, not counting what the copy set aside as dead letters.
 */
async function d1Lag(stub: DurableObjectStub): Promise<number> {
  const held = await runInDurableObject(stub, (_, state) => holds(state));
  if (!held) return 0;
  const source = held.chatType === "booking" ? `booking:${held.id}` : `support:${held.id}`;
  // The shard the object recorded (one from before shards existed has none: the first).
  const shard = held.shard === 0 ? env.DB : env.DB_1;
  const one = (query: string, ...params: unknown[]) =>
    shard
      .prepare(query)
      .bind(...params)
      .first<{ n: number | null }>()
      .then((row) => row?.n ?? 0);
  // The copy goes in seq order, so its newest seq (or the newest set aside) is how far it got.
  const copied = await one(
    "SELECT MAX(seq) AS n FROM messages WHERE chat_type = ? AND conversation_id = ?",
    held.chatType,
    held.id,
  );
  const setAsideIn = (query: string, ...params: unknown[]) =>
    env.DB.prepare(query)
      .bind(...params)
      .first<{ n: number | null }>()
      .then((row) => row?.n ?? 0);
  const setAside = await setAsideIn(
    "SELECT MAX(CAST(substr(position, 5) AS INTEGER)) AS n FROM dead_letters WHERE source = ? AND consumer = 'd1' AND position LIKE 'seq %'",
    source,
  );
  const messagesBehind = Math.max(0, held.lastSeq - Math.max(copied, setAside));
  if (held.chatType !== "booking") return messagesBehind;
  const mirrored = await one("SELECT version AS n FROM bookings WHERE id = ?", held.id);
  const versionSetAside = await setAsideIn(
    "SELECT MAX(CAST(substr(position, 7) AS INTEGER)) AS n FROM dead_letters WHERE source = ? AND consumer = 'd1' AND position LIKE 'event %'",
    source,
  );
  return messagesBehind + Math.max(0, held.version - Math.max(mirrored, versionSetAside));
}

/**
 * Runs the object's alarm until everything it holds is in D1. The alarm may also be running on
 * its own, so one run is not proof; D1's own copy is.
 */
export async function settleD1(stub: DurableObjectStub): Promise<void> {
  await vi.waitUntil(
    async () => {
      await runDurableObjectAlarm(stub);
      return (await d1Lag(stub)) === 0;
    },
    { timeout: 5_000, interval: 20 },
  );
}

/**
 * Makes D1 itself refuse inserts into `table` of rows matching `when` (SQL over `NEW`), with
 * `reason` as the error, until the returned function undoes it: a real refusal, not a mock.
 */
export async function refuseInsertsInD1(
  table: string,
  when: string,
  reason: string,
): Promise<() => Promise<void>> {
  const trigger = `refuse_${crypto.randomUUID().replaceAll("-", "")}`;
  const shards = [env.DB, env.DB_1];
  for (const shard of shards) {
    await shard.exec(
      `CREATE TRIGGER ${trigger} BEFORE INSERT ON ${table} WHEN ${when} BEGIN SELECT RAISE(ABORT, '${reason}'); END;`,
    );
  }
  return async () => {
    for (const shard of shards) await shard.exec(`DROP TRIGGER ${trigger}`);
  };
}

/** The seqs of a booking's messages that D1 holds, ascending. */
export async function d1Seqs(bookingId: string): Promise<number[]> {
  const { results } = await d1Of(bookingId)
    .prepare("SELECT seq FROM messages WHERE chat_type = 'booking' AND conversation_id = ? ORDER BY seq")
    .bind(bookingId)
    .all<{ seq: number }>();
  return results.map((r) => r.seq);
}

/** The customer sends `texts`, one after another, and the room's D1 copy catches up. */
export async function sendAndSettle(chat: ActiveChat, texts: string[]): Promise<void> {
  const customer = await joined(chat.bookingId, chat.customer, chat.customerToken);
  for (const message of texts) {
    customer.send("booking-chat", { bookingId: chat.bookingId, chatToken: chat.customerToken, message });
    await customer.expect("booking-chat");
  }
  customer.close();
  await settleD1(bookingRoom(env, chat.bookingId));
}
