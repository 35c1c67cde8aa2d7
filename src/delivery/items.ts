/**
 * What a conversation hands an inbox or an admin feed shard, in order. Each item carries its
 * position in the source (a message's seq, a lifecycle event's id, a read cursor), all of which
 * only grow, so the receiver drops anything it has already seen from that source.
 */
export type DeliveryItem =
  | { kind: "message"; seq: number; frame: string }
  | {
      kind: "event";
      id: number;
      /** The frames this receiver may see (none, for a change that concerns it only as a summary). */
      frames: string[];
      /** For an inbox: the booking's `ChatSummary` JSON as of this delivery. */
      summary: string | null;
    }
  | { kind: "read"; seq: number; frame: string };

/** A receiver's answer: `stop` when it no longer wants this source (a listener with nobody joined). */
export type DeliveryAck = { stop: true } | undefined;

/** What a receiving object (an inbox, an admin feed shard, a Socket.IO hub) exposes over RPC. */
export interface DeliveryReceiver {
  deliver(source: string, items: DeliveryItem[]): Promise<DeliveryAck>;
}
