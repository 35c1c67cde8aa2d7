/** Something that keeps storage in memory and can drop it, so the next read goes to storage. */
export type Forgetful = { forget(): void };

/**
 * Runs `run` in one SQLite transaction. If it rolls back, every in-memory copy that may have
 * been read or written inside it is dropped, since storage no longer holds what it saw.
 */
export function transaction<T>(storage: DurableObjectStorage, caches: Forgetful[], run: () => T): T {
  try {
    return storage.transactionSync(run);
  } catch (error) {
    for (const cache of caches) cache.forget();
    throw error;
  }
}
