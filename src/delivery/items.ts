import type { Stream } from "../conversation/positions";
import type { UserRole } from "../protocol";

/**
 * Who a frame is for, where a receiver serves more than one audience (a Socket.IO hub holds many
 * users' connections): a user in a role (with `joinedOnly`, only their connections that joined the
 * booking: a message that reads differently for them), the connections that joined the booking,
 * the admins among them, or the admins watching the feed. An inbox or a feed shard serves one
 * audience and ignores it.
 */
export type Addressee =
  | { userId: string; role: UserRole; joinedOnly?: true }
  | "joined"
  | "admins-joined"
  | "feed";

export type Addressed = { frame: string; to?: Addressee[] };

/**
 * What a conversation hands a receiver (an inbox, an admin feed shard, a Socket.IO hub), in order.
 * Each item carries its position in its stream (a message's seq, a lifecycle event's id, a read
 * cursor), all of which only grow, so the receiver drops anything it has already seen from that
 * source and stream.
 */
export type DeliveryItem = {
  stream: Stream;
  at: number;
  /** The frames this item becomes for this receiver (none, for a change that concerns it only as a summary). */
  frames: Addressed[];
  /** For an inbox, with a lifecycle change: the booking's `ChatSummary` JSON as of this delivery. */
  summary?: string | null;
};

/**
 * A receiver's answer. `stop`: it no longer wants this source (a hub with nobody there who
 * listens). `hubs`: the Socket.IO hubs that want this source too (an inbox's user's hubs, a feed
 * shard's watching admins'), which the conversation then follows from the batch just delivered.
 * `wants` (an inbox): whether it has sockets to show message notifications and read marks on;
 * lifecycle changes it always takes. `watched` (a feed shard): whether any admin watches it. `at`:
 * the receiver's clock when it answered, so a late answer never undoes a newer word of its own.
 */
export type DeliveryAck =
  | { stop?: true; hubs?: number[]; wants?: InboxWants; watched?: boolean; at?: number }
  | undefined;

/** What an inbox takes besides lifecycle changes, as it says in every answer. */
export type InboxWants = { messages: boolean; reads: boolean };

/** What a receiving object (an inbox, an admin feed shard, a Socket.IO hub) exposes over RPC. */
export interface DeliveryReceiver {
  deliver(source: string, items: DeliveryItem[]): Promise<DeliveryAck>;
}
