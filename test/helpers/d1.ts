import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { vi } from "vitest";

function pendingWrites(state: DurableObjectState): number {
  const sql = state.storage.sql;
  const messages = sql
    .exec<{ n: number }>(
      "SELECT COUNT(*) AS n FROM messages WHERE seq > (SELECT synced_through FROM d1_cursor)",
    )
    .one().n;
  const hasBooking = sql.exec("SELECT 1 FROM sqlite_master WHERE name = 'booking'").toArray().length > 0;
  const booking = hasBooking
    ? sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM booking WHERE version > d1_version").one().n
    : 0;
  return messages + booking;
}

/**
 * Runs the object's alarm until everything it holds is in D1. The alarm may also be running on
 * its own (it is due about 2 s after a write), so one run is not proof; the object's own record is.
 */
export async function settleD1(stub: DurableObjectStub): Promise<void> {
  await vi.waitUntil(
    async () => {
      await runDurableObjectAlarm(stub);
      return (await runInDurableObject(stub, (_, state) => pendingWrites(state))) === 0;
    },
    { timeout: 5_000, interval: 20 },
  );
}
