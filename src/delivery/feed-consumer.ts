import type { Consumer } from "../conversation/consumer";
import { later, type Position, type StoredPosition } from "../conversation/positions";
import type { Counters } from "../metering/meter";
import type { ReceiverGates } from "./gates";
import { type Batch, PushConsumer } from "./push-consumer";
import { feedName, feedStub } from "./targets";

export type FeedOptions = {
  env: Env;
  counters: Counters;
  gates: ReceiverGates;
  source: string;
  shard: number;
  shards: number;
  head: () => Position;
  batch: (from: Position) => Batch;
  onHubs: (hubs: number[], from: Position) => void;
};

/**
 * A conversation's admin feed shard, pushed to only while an admin watches it. The shard says in
 * every answer whether anyone does; told nobody does, the conversation stops pushing (no call per
 * message, no alarm) and the shard notes it, to call it back (`feedWatched`) when an admin starts
 * watching. From then on the admin sees every message and change, in order. Its position is not
 * stored: after a wake it starts at the end, as a live view does.
 */
export class FeedConsumer implements Consumer {
  readonly name: string;
  readonly batched = false;
  private readonly push: PushConsumer;

  constructor(private readonly options: FeedOptions) {
    const { env, shard, shards, gates } = options;
    this.name = feedName(shard, shards);
    this.push = new PushConsumer({
      name: this.name,
      source: options.source,
      receiver: () => feedStub(env, shard, shards),
      head: options.head,
      batch: options.batch,
      counters: options.counters,
      deadLetters: env.DB,
      onHubs: options.onHubs,
      onAck: (ack) => {
        if (ack.watched !== undefined) gates.setFeed(this.name, ack.watched, options.head(), ack.at ?? 0);
      },
    });
  }

  /** The shard says (at its clock `at`) that an admin watches again: push from where the conversation stands. */
  watched(at: number): void {
    this.options.gates.setFeed(this.name, true, this.options.head(), at);
  }

  head(): Position {
    // Nobody watches: nothing to catch up on.
    return this.options.gates.feed(this.name).watchedFrom === null ? {} : this.options.head();
  }

  run(from: Position): Promise<Position> {
    const { watchedFrom } = this.options.gates.feed(this.name);
    // What happened while nobody watched is not shown to an admin who came later.
    return this.push.run(watchedFrom ? later(from, watchedFrom) : from);
  }

  restore(stored: StoredPosition | undefined): StoredPosition {
    return stored ?? { at: this.options.head(), failures: 0, retryAt: null };
  }

  persisted(): undefined {
    return undefined;
  }
}
