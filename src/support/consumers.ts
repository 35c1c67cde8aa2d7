import type { Consumer } from "../conversation/consumer";
import { D1Copy } from "../conversation/d1-copy";
import type { MessageLog } from "../conversation/message-log";
import type { Position } from "../conversation/positions";
import type { DeliveryItem } from "../delivery/items";
import { type Batch, PushConsumer } from "../delivery/push-consumer";
import { feedName, feedShardOf, feedStub, inboxName, inboxStub } from "../delivery/targets";
import type { Counters } from "../metering/meter";
import { encode } from "../sockets/socket-state";
import { presentSupportMessage } from "./present";

const BATCH = 200;

type Setup = { env: Env; counters: Counters; feedShards: number; providerId: string; log: MessageLog };

/**
 * Who follows a support thread: the D1 copy, the provider's inbox (every device, the sender's
 * acknowledgement included) and the thread's admin feed shard, each by its own cursor.
 */
export function supportConsumers({ env, counters, feedShards, providerId, log }: Setup): Consumer[] {
  const source = `support:${providerId}`;
  const shard = feedShardOf(source, feedShards);
  const who = { userId: providerId, role: "provider" } as const;
  const head = (): Position => ({ seq: log.lastSeq(), event: 0, read: 0 });
  const batch = (from: Position): Batch => {
    const messages = log.after(from.seq, BATCH);
    const items: DeliveryItem[] = messages.map((m) => ({
      kind: "message",
      seq: m.seq,
      frame: encode("support-chat", presentSupportMessage(providerId, m)),
    }));
    return { items, through: { seq: messages.at(-1)?.seq ?? from.seq, event: 0, read: 0 } };
  };
  return [
    new D1Copy(env.DB, counters, {
      name: source,
      head,
      after: (seq, limit) => log.after(seq, limit),
      toRow: (m) => ({ ...m, chatType: "admin", conversationId: providerId, isRead: false }),
    }),
    new PushConsumer({
      name: inboxName(who),
      source,
      receiver: () => inboxStub(env, who),
      head,
      batch,
      counters,
      deadLetters: env.DB,
    }),
    new PushConsumer({
      name: feedName(shard, feedShards),
      source,
      receiver: () => feedStub(env, shard, feedShards),
      head,
      batch,
      counters,
      deadLetters: env.DB,
    }),
  ];
}
