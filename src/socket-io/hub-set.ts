import type { Counters } from "../metering/meter";

/**
 * A set of Socket.IO hubs an object names to conversations (the admin feed shard: the hubs where
 * admins watch), kept in the object's key-value storage: a row written only when it changes.
 */
export class HubSet {
  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly key: string,
    private readonly counters: Counters,
  ) {}

  hubs(): number[] {
    const stored = this.storage.kv.get(this.key);
    return Array.isArray(stored) ? stored.filter((h): h is number => Number.isInteger(h)) : [];
  }

  add(hub: number): void {
    const hubs = this.hubs();
    if (!hubs.includes(hub)) this.store([...hubs, hub]);
  }

  remove(hub: number): void {
    const hubs = this.hubs();
    if (hubs.includes(hub)) this.store(hubs.filter((h) => h !== hub));
  }

  private store(hubs: number[]): void {
    this.storage.kv.put(this.key, hubs);
    this.counters.rowsWritten++;
  }
}
