import { z } from "zod";
import type { Position } from "../conversation/positions";
import type { Counters } from "../metering/meter";
import type { InboxWants } from "./items";

/**
 * What an inbox wants beyond lifecycle changes, as it last said: message notifications (from
 * `messagesFrom`, the newest seq when it started listening; null while it has no socket that
 * shows them) and the other party's read marks.
 */
export type InboxGate = { messagesFrom: number | null; reads: boolean };

/** Whether anyone watches a feed shard: since `watchedFrom` (where the conversation stood), or null. */
export type FeedGate = { watchedFrom: Position | null };

const Said = z.object({ at: z.number() });
const Gates = z.record(
  z.string(),
  z.union([
    Said.extend({ messagesFrom: z.number().int().nonnegative().nullable(), reads: z.boolean() }).strict(),
    Said.extend({
      watchedFrom: z.record(z.string(), z.number().int().nonnegative()).nullable(),
    }).strict(),
  ]),
);
type Stored = z.infer<typeof Gates>;

const KEY = "receiverGates";

/**
 * What each receiver of a conversation said it wants, so that nothing is pushed to one that does
 * not listen: one value in the object's key-value storage, read once after a wake and written only
 * when a receiver changes its mind (an app opened or closed, an admin came or went). A receiver it
 * has not heard from yet gets everything, and its answer decides from then on.
 *
 * Each answer carries the receiver's clock (`at`): an answer to a delivery may arrive after the
 * receiver has already said something newer (its first socket opened meanwhile), and must not
 * undo it. On a tie, wanting more wins: at worst one delivery too many, whose answer corrects it.
 */
export class ReceiverGates {
  private stored: Stored | undefined;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly counters: Counters,
  ) {}

  inbox(name: string): InboxGate {
    const gate = this.all()[name];
    return gate && "reads" in gate ? gate : { messagesFrom: 0, reads: true };
  }

  /** What an inbox says it wants at `at`; `lastSeq` is where notifications start if it starts listening. */
  setInbox(name: string, wants: InboxWants, lastSeq: number, at: number): void {
    const stored = this.all()[name];
    const current = this.inbox(name);
    const more = (wants.messages && current.messagesFrom === null) || (wants.reads && !current.reads);
    if (stored && (at < stored.at || (at === stored.at && !more))) return;
    const messagesFrom = wants.messages ? (current.messagesFrom ?? lastSeq) : null;
    // Unheard-from means "everything", so saying so again writes nothing.
    if (current.messagesFrom === messagesFrom && current.reads === wants.reads) {
      if (stored || (wants.messages && wants.reads)) return;
    }
    this.write(name, { at, messagesFrom, reads: wants.reads });
  }

  feed(name: string): FeedGate {
    const gate = this.all()[name];
    return gate && "watchedFrom" in gate ? gate : { watchedFrom: {} };
  }

  /** Whether a feed shard is watched, as it says at `at`; `head` is where a watched one starts. */
  setFeed(name: string, watched: boolean, head: Position, at: number): void {
    const stored = this.all()[name];
    const current = this.feed(name);
    if (stored && (at < stored.at || (at === stored.at && !watched))) return;
    if ((current.watchedFrom !== null) === watched) return;
    this.write(name, { at, watchedFrom: watched ? { ...head } : null });
  }

  private all(): Stored {
    if (this.stored === undefined) {
      const parsed = Gates.safeParse(this.storage.kv.get(KEY));
      this.stored = parsed.success ? parsed.data : {};
    }
    return this.stored;
  }

  private write(name: string, gate: Stored[string]): void {
    this.stored = { ...this.all(), [name]: gate };
    this.storage.kv.put(KEY, this.stored);
    this.counters.rowsWritten++;
  }
}
