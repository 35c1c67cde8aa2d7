import type { Counters } from "../metering/meter";

/**
 * A set of Socket.IO hubs an object names to conversations (the admin feed shard: the hubs where
 * admins watch), kept in the object's key-value storage: a row written only when it changes, read
 * once per wake.
 */
export class HubSet {
  private cached: number[] | undefined;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly key: string,
    private readonly counters: Counters,
  ) {}

  hubs(): number[] {
    if (this.cached === undefined) {
      const stored = this.storage.kv.get(this.key);
      this.cached = Array.isArray(stored) ? stored.filter((h): h is number => Number.isInteger(h)) : [];
    }
    return this.cached;
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
    this.cached = hubs;
    this.storage.kv.put(this.key, hubs);
    this.counters.rowsWritten++;
  }
}
