import type { Consumer } from "../conversation/consumer";
import type { Position } from "../conversation/positions";
import type { Counters } from "../metering/meter";
import type { DeliveryItem, DeliveryReceiver } from "./items";

/** A batch for one receiver: the items beyond a position, and the position they bring it to. */
export type Batch = { items: DeliveryItem[]; through: Position };

export type PushOptions = {
  /** The consumer's name: also its key in the stored positions. */
  name: string;
  /** How the receiver knows this conversation (`booking:{id}`, `support:{providerId}`). */
  source: string;
  receiver: () => DeliveryReceiver;
  head: () => Position;
  /** The next batch beyond `from`; it may be empty (nothing there concerns this receiver). */
  batch: (from: Position) => Batch;
  counters: Counters;
};

/** A receiver that has not answered by then counts as failed, so a hung call never holds up the alarm. */
const DELIVERY_TIMEOUT_MS = 10_000;

/** A consumer that pushes batches to another object (an inbox, an admin feed shard) by RPC. */
export class PushConsumer implements Consumer {
  readonly batched = false;
  readonly name: string;
  private stub: DeliveryReceiver | null = null;

  constructor(private readonly options: PushOptions) {
    this.name = options.name;
  }

  head(): Position {
    return this.options.head();
  }

  async run(from: Position): Promise<Position> {
    const { items, through } = this.options.batch(from);
    // Nothing for this receiver (say, a party's own messages for its inbox): no call at all.
    if (items.length === 0) return through;
    this.stub ??= this.options.receiver();
    this.options.counters.calls++;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("the receiver did not answer in time")), DELIVERY_TIMEOUT_MS);
    });
    try {
      await Promise.race([this.stub.deliver(this.options.source, items), timeout]);
    } catch (error) {
      // A stub that failed may be broken; the retry gets a fresh one.
      this.stub = null;
      throw error;
    } finally {
      clearTimeout(timer);
    }
    return through;
  }
}
