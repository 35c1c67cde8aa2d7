import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { vi } from "vitest";
import { at, readStoredPosition } from "../../src/conversation/positions";

/** The D1 copy's recorded position, and what the object holds: messages, and for a room its booking version. */
function d1Lag(state: DurableObjectState): number {
  const sql = state.storage.sql;
  const has = (table: string) =>
    sql.exec("SELECT 1 FROM sqlite_master WHERE name = ?", table).toArray().length > 0;
  if (!has("consumer_positions")) return 0;
  const row = sql.exec<{ positions: string }>("SELECT positions FROM consumer_positions").toArray()[0];
  const d1 = readStoredPosition("d1", row ? JSON.parse(row.positions).d1 : undefined)?.at ?? {};
  const lastSeq = sql.exec<{ s: number }>("SELECT COALESCE(MAX(seq), 0) AS s FROM messages").one().s;
  const version = has("booking")
    ? (sql.exec<{ v: number }>("SELECT version AS v FROM booking").toArray()[0]?.v ?? 0)
    : 0;
  return lastSeq - at(d1, "messages") + Math.max(0, version - at(d1, "booking"));
}

/**
 * Runs the object's alarm until everything it holds is in D1. The alarm may also be running on
 * its own (it is due about 2 s after a write), so one run is not proof; the object's own record is.
 */
export async function settleD1(stub: DurableObjectStub): Promise<void> {
  await vi.waitUntil(
    async () => {
      await runDurableObjectAlarm(stub);
      return (await runInDurableObject(stub, (_, state) => d1Lag(state))) === 0;
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
  await env.DB.exec(
    `CREATE TRIGGER ${trigger} BEFORE INSERT ON ${table} WHEN ${when} BEGIN SELECT RAISE(ABORT, '${reason}'); END;`,
  );
  return async () => {
    await env.DB.exec(`DROP TRIGGER ${trigger}`);
  };
}

/** The seqs of a booking's messages that D1 holds, ascending. */
export async function d1Seqs(bookingId: string): Promise<number[]> {
  const { results } = await env.DB.prepare(
    "SELECT seq FROM messages WHERE chat_type = 'booking' AND conversation_id = ? ORDER BY seq",
  )
    .bind(bookingId)
    .all<{ seq: number }>();
  return results.map((r) => r.seq);
}
