import type { Consumer } from "../conversation/consumer";
import type { Position, StoredPosition } from "../conversation/positions";
import type { ReceiverGates } from "../delivery/gates";
import { type Batch, PushConsumer } from "../delivery/push-consumer";
import { inboxName, inboxStub } from "../delivery/targets";
import type { Counters } from "../metering/meter";
import type { PartyRole } from "../protocol";

export type InboxOptions = {
  env: Env;
  counters: Counters;
  who: { userId: string; role: PartyRole };
  source: string;
  gates: ReceiverGates;
  /** What it follows now (see `inboxHead` in consumers.ts: messages only while it wants them). */
  head: () => Position;
  lastSeq: () => number;
  batch: (from: Position) => Batch;
  onHubs: (hubs: number[], from: Position) => void;
};

/**
 * A party's inbox, as the booking's consumer. Lifecycle changes always reach it (they change its
 * stored list); message notifications and read marks only while it says it has sockets to show
 * them on, which it says in every answer and, when its first socket opens, in a call of its own
 * (`BookingRoom.inboxWants`). Notifications are a live view: where they got to is not stored, and
 * after a wake they start at the newest message.
 */
export class InboxConsumer implements Consumer {
  readonly name: string;
  readonly batched = false;
  private readonly push: PushConsumer;

  constructor(private readonly options: InboxOptions) {
    const { env, who } = options;
    this.name = inboxName(who);
    this.push = new PushConsumer({
      name: this.name,
      source: options.source,
      receiver: () => inboxStub(env, who),
      head: options.head,
      batch: options.batch,
      counters: options.counters,
      deadLetters: env.DB,
      onHubs: options.onHubs,
      onAck: (ack) => {
        if (ack.wants) options.gates.setInbox(this.name, ack.wants, options.lastSeq(), ack.at ?? 0);
      },
    });
  }

  head(): Position {
    return this.options.head();
  }

  run(from: Position): Promise<Position> {
    return this.push.run(from);
  }

  restore(stored: StoredPosition | undefined): StoredPosition {
    const kept = stored ?? { at: this.options.head(), failures: 0, retryAt: null };
    return { ...kept, at: { ...kept.at, messages: this.options.lastSeq() } };
  }

  persisted(position: StoredPosition): StoredPosition {
    const { messages: _notified, ...at } = position.at;
    return { ...position, at };
  }
}
