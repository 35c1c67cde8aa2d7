import { getConfig } from "../config";
import type { Consumer } from "../conversation/consumer";
import { D1Copy, type D1MessageRow } from "../conversation/d1-copy";
import type { MessageLog, StoredMessage } from "../conversation/message-log";
import { at, type Position } from "../conversation/positions";
import { upsertSupportThread } from "../db/support-threads";
import { FeedConsumer } from "../delivery/feed-consumer";
import type { ReceiverGates } from "../delivery/gates";
import { hubConsumer } from "../delivery/hub-consumer";
import type { Addressee, DeliveryItem } from "../delivery/items";
import { type Batch, PushConsumer } from "../delivery/push-consumer";
import { feedShardOf, inboxName, inboxStub } from "../delivery/targets";
import type { Counters } from "../metering/meter";
import { retentionCutoff } from "../retention/cutoff";
import { encode } from "../sockets/encode";
import { presentSupportMessage } from "./present";

const BATCH = 200;

type Setup = {
  env: Env;
  counters: Counters;
  feedShards: number;
  providerId: string;
  log: MessageLog;
  gates: ReceiverGates;
  /** Socket.IO hubs where admins watch the feed, which the feed shard names. */
  hubs: number[];
  onHubsWanted: (hubs: number[], from: Position) => void;
  onHubGone: (hub: number) => void;
  /** The thread's D1 shard. */
  d1: D1Database;
};

/**
 * Who follows a support thread: the D1 copy, the provider's inbox (every device, the sender's
 * acknowledgement included: it always takes the thread's messages), the thread's admin feed shard
 * (while an admin watches it) and the hubs where admins watch the feed over Socket.IO, each by its
 * own cursor.
 */
export function supportConsumers(setup: Setup): Consumer[] {
  const { env, counters, feedShards, providerId, log, gates, hubs, onHubsWanted, onHubGone } = setup;
  const source = `support:${providerId}`;
  const shard = feedShardOf(source, feedShards);
  const who = { userId: providerId, role: "provider" } as const;
  const head = (): Position => ({ messages: log.lastSeq() });
  const batch = (from: Position, to?: Addressee[]): Batch => {
    const messages = log.after(at(from, "messages"), BATCH);
    const items: DeliveryItem[] = messages.map((m) => {
      const frame = encode("support-chat", presentSupportMessage(providerId, m));
      return { stream: "messages", at: m.seq, frames: [to ? { frame, to } : { frame }] };
    });
    return { items, through: { messages: messages.at(-1)?.seq ?? at(from, "messages") } };
  };
  const hub = (index: number) =>
    hubConsumer({
      env,
      counters,
      source,
      hub: index,
      head,
      batch: (from) => batch(from, ["feed"]),
      onGone: () => onHubGone(index),
    });
  return [
    new D1Copy(
      setup.d1,
      counters,
      {
        name: source,
        chatType: "admin",
        conversationId: providerId,
        head,
        after: (seq, limit) => log.after(seq, limit),
        toRow: (m) => toSupportRow(providerId, m),
        heldSince: () => retentionCutoff(getConfig(env).retentionDays, Date.now()) ?? "",
        alongside: (db, messages) => {
          const last = messages.at(-1);
          return last ? [upsertSupportThread(db, toSupportRow(providerId, last))] : [];
        },
      },
      env.DB,
    ),
    new PushConsumer({
      name: inboxName(who),
      source,
      receiver: () => inboxStub(env, who),
      head,
      batch,
      counters,
      deadLetters: env.DB,
    }),
    new FeedConsumer({
      env,
      counters,
      gates,
      source,
      shard,
      shards: feedShards,
      head,
      batch,
      onHubs: onHubsWanted,
    }),
    ...hubs.map(hub),
  ];
}

/** A support message as D1 keeps it. */
export function toSupportRow(providerId: string, m: StoredMessage): D1MessageRow {
  return {
    ...m,
    chatType: "admin",
    conversationId: providerId,
    isRead: false,
  };
}
