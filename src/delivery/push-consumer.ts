import type { Consumer } from "../conversation/consumer";
import { longestPrefix, SuspectTracker } from "../conversation/isolate";
import { advance, type Position, positionLabel } from "../conversation/positions";
import type { Counters } from "../metering/meter";
import { recordDeadLetter } from "./dead-letters";
import type { DeliveryAck, DeliveryItem, DeliveryReceiver } from "./items";

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
  /** Where items a receiver refuses for good are set aside (D1). */
  deadLetters: D1Database;
  /** Called when the receiver says it no longer wants this source. */
  onStop?: () => void;
  /** Called when the receiver names Socket.IO hubs that want this source, with the batch's start. */
  onHubs?: (hubs: number[], from: Position) => void;
  /** Called with every answer (what the receiver says it wants from now on). */
  onAck?: (ack: NonNullable<DeliveryAck>) => void;
  /** See Consumer.intervalMs. */
  intervalMs?: number;
  /** See Consumer.background. */
  background?: boolean;
};

/** A consumer that pushes batches to another object (an inbox, an admin feed shard) by RPC. */
export class PushConsumer implements Consumer {
  readonly batched = false;
  readonly name: string;
  readonly intervalMs: number | undefined;
  readonly background: boolean;
  private stub: DeliveryReceiver | null = null;
  private readonly suspects = new SuspectTracker();

  constructor(private readonly options: PushOptions) {
    this.name = options.name;
    this.intervalMs = options.intervalMs;
    this.background = options.background ?? false;
  }

  head(): Position {
    return this.options.head();
  }

  batchNow(from: Position): Batch {
    return this.options.batch(from);
  }

  async run(from: Position): Promise<Position> {
    const { items, through } = this.options.batch(from);
    // Nothing for this receiver (say, a party's own messages for its inbox): no call at all.
    if (items.length === 0) return through;
    try {
      const ack = await this.deliver(items);
      this.suspects.cleared();
      this.heard(ack, from);
      return through;
    } catch (error) {
      // A receiver that refuses even an empty delivery is down: back off, as in any outage.
      await this.deliver([]).catch(() => {
        throw error;
      });
      // It answers, so one bad item must not hold back the others: deliver the longest prefix that goes through.
      const prefix = await longestPrefix(items.length - 1, async (n) => {
        await this.deliver(items.slice(0, n));
      });
      if (prefix.sent > 0) return positionAfter(from, items, prefix.sent);
      const first = items[0];
      if (!first) throw error;
      const key = positionLabel(first.stream, first.at);
      if (!this.suspects.failedAlone(key)) throw prefix.error ?? error;
      // Failing alone again and again while the receiver answers otherwise: set it aside.
      await recordDeadLetter(this.options.deadLetters, {
        source: this.options.source,
        consumer: this.name,
        position: key,
        error: prefix.error ?? error,
        payload: first,
      });
      this.suspects.cleared();
      return positionAfter(from, items, 1);
    }
  }

  /** Asks the receiver, with nothing to deliver, what it wants (whether anyone there listens). */
  async probe(): Promise<DeliveryAck> {
    const ack = await this.deliver([]);
    if (ack) this.options.onAck?.(ack);
    return ack;
  }

  private heard(ack: DeliveryAck, from: Position): void {
    if (!ack) return;
    if (ack.stop) this.options.onStop?.();
    if (ack.hubs?.length) this.options.onHubs?.(ack.hubs, from);
    this.options.onAck?.(ack);
  }

  /** One call; a hung one is given up by the runner (conversation/consumer-runner.ts). */
  private async deliver(items: DeliveryItem[]): Promise<DeliveryAck> {
    this.stub ??= this.options.receiver();
    this.options.counters.calls++;
    try {
      return (await this.stub.deliver(this.options.source, items)) ?? undefined;
    } catch (error) {
      // A stub that failed may be broken; the retry gets a fresh one.
      this.stub = null;
      throw error;
    }
  }
}

/** The position just past the first `count` items. */
function positionAfter(from: Position, items: DeliveryItem[], count: number): Position {
  return items.slice(0, count).reduce((at, item) => advance(at, item.stream, item.at), from);
}
