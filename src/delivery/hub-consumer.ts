import type { Position } from "../conversation/positions";
import type { Counters } from "../metering/meter";
import { type Batch, PushConsumer } from "./push-consumer";
import { sioHubStub, sioListenerName } from "./targets";

/**
 * A conversation's consumer for one Socket.IO hub: the hub hears every item at once (as a
 * booking socket would), in the background (a hung hub delays only its own connections), and is
 * dropped when it says nobody there wants the conversation any more.
 */
export function hubConsumer(options: {
  env: Env;
  counters: Counters;
  source: string;
  hub: number;
  head: () => Position;
  batch: (from: Position) => Batch;
  onGone: () => void;
}): PushConsumer {
  const { env, hub } = options;
  return new PushConsumer({
    name: sioListenerName(hub),
    source: options.source,
    receiver: () => sioHubStub(env, hub),
    head: options.head,
    batch: options.batch,
    counters: options.counters,
    deadLetters: env.DB,
    onStop: options.onGone,
    intervalMs: 0,
    background: true,
  });
}
