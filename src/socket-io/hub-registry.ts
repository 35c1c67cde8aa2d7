import type { DeliveryAck } from "../delivery/items";
import { describeError } from "../log";
import type { Counters } from "../metering/meter";

const KEY = "socketIoHubs";

/**
 * The Socket.IO hubs an object forwards to (an inbox: its user's connections; an admin feed shard:
 * admins' connections), kept in the object's key-value storage. A hub that says nobody there wants
 * them any more is dropped.
 */
export class HubRegistry {
  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly counters: Counters,
  ) {}

  hubs(): number[] {
    const stored = this.storage.kv.get(KEY);
    return Array.isArray(stored) ? stored.filter((h): h is number => Number.isInteger(h)) : [];
  }

  add(hub: number): void {
    const hubs = this.hubs();
    if (!hubs.includes(hub)) this.store([...hubs, hub]);
  }

  /** Sends to every hub; drops those that answer `stop`, and logs (without content) those that fail. */
  async forward(send: (hub: number) => Promise<DeliveryAck | undefined>): Promise<void> {
    const hubs = this.hubs();
    if (hubs.length === 0) return;
    this.counters.calls += hubs.length;
    const answers = await Promise.allSettled(hubs.map(send));
    const keep = hubs.filter((_, i) => {
      const answer = answers[i];
      if (answer?.status === "rejected")
        console.error("socket.io: a hub did not answer", describeError(answer.reason));
      return !(answer?.status === "fulfilled" && answer.value?.stop);
    });
    if (keep.length !== hubs.length) this.store(keep);
  }

  private store(hubs: number[]): void {
    this.storage.kv.put(KEY, hubs);
    this.counters.rowsWritten++;
  }
}
