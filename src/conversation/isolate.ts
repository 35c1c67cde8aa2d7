/**
 * Finds how much of a refused batch goes through: the whole, else the first half, else the first
 * quarter... so one bad item never holds back the items before it. Resolves with how many items
 * were sent (a prefix) and, when fewer than all, the error that stopped the rest.
 */
export async function longestPrefix(
  count: number,
  send: (n: number) => Promise<void>,
): Promise<{ sent: number; error: unknown }> {
  try {
    await send(count);
    return { sent: count, error: null };
  } catch (error) {
    if (count <= 1) return { sent: 0, error };
    const half = Math.ceil(count / 2);
    const first = await longestPrefix(half, send);
    return first.sent < half ? first : { sent: half, error };
  }
}

/** How many times an item must fail alone, across retries with backoff, before it is set aside. */
const FAILURES_BEFORE_DEAD_LETTER = 3;

/**
 * Tells a bad item from an outage: an item that fails alone is a suspect; only one that keeps
 * failing alone over several retries (each after a backoff) is set aside, and only if writing the
 * dead letter succeeds, which shows the store itself is up.
 */
export class SuspectTracker {
  private suspect: { key: string; failures: number } | null = null;

  /** Records that the item `key` failed alone; true once it has failed often enough to set aside. */
  failedAlone(key: string): boolean {
    if (this.suspect?.key !== key) this.suspect = { key, failures: 0 };
    this.suspect.failures++;
    return this.suspect.failures >= FAILURES_BEFORE_DEAD_LETTER;
  }

  cleared(): void {
    this.suspect = null;
  }
}
