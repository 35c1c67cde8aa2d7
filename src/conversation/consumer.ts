import type { DeliveryItem } from "../delivery/items";
import { isAhead, type Position, type StoredPosition } from "./positions";

/**
 * Something that follows a conversation's log by cursor: the D1 copy, an inbox, an admin feed
 * shard. It hands on what lies beyond a position and says how far it got; the conversation keeps
 * the position, so a consumer holds no state of its own that must survive a restart.
 */
export interface Consumer {
  /** Names it in logs and in the stored positions. */
  readonly name: string;
  /** Batched consumers (the D1 copy) run when the alarm fires; the others run right after a write. */
  readonly batched: boolean;
  /**
   * For one that runs after writes: the least time between its runs while the conversation is
   * busy (what arrives meanwhile shares a run). DELIVERY_INTERVAL_MS unless set; 0 runs it after
   * every write, what arrives during a run following in the next.
   */
  readonly intervalMs?: number;
  /**
   * A consumer a lifecycle change does not wait for (a Socket.IO hub): kicked at once like the
   * others, but a hung one delays nobody but its own connections.
   */
  readonly background?: boolean;
  /**
   * For one that holds back on purpose (the notification webhook's coalescing): when it will want
   * to run although it is not behind now, or null. The alarm is set for then.
   */
  wakeAt?(): number | null;
  /** The conversation's current end as this consumer sees it. */
  head(): Position;
  /** Hands on the next batch beyond `from`; resolves with how far it got. Rejects when the receiver failed. */
  run(from: Position): Promise<Position>;
  /**
   * Where it starts when the object wakes, from what was stored for it (if anything). Unless
   * given: the stored position, else the head (a consumer added later hears what happens from now on).
   */
  restore?(stored: StoredPosition | undefined): StoredPosition;
  /**
   * Its next batch beyond `from`, built now, for the caller to hand over itself (a Socket.IO hub
   * whose command just wrote takes it with the answer). Only receivers that can take it so have it.
   */
  batchNow?(from: Position): { items: DeliveryItem[]; through: Position };
  /**
   * What of its position must outlive the object (undefined: nothing, it is found again another
   * way or not needed). Unless given: all of it.
   */
  persisted?(position: StoredPosition): StoredPosition | undefined;
}

/** Whether a consumer at `at` has something to do. */
export function isBehind(consumer: Consumer, at: Position): boolean {
  return isAhead(consumer.head(), at);
}
