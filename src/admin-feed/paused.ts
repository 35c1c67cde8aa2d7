import type { Counters } from "../metering/meter";
import { bookingRoom } from "../rooms";
import { supportThread } from "../support/thread-stub";

const PREFIX = "paused:";

/**
 * The conversations a feed shard told that nobody watches, in its key-value storage: a row per
 * conversation when it stops pushing (not per message), deleted when it is called back.
 */
export class PausedSources {
  /** Sources known to be stored, so a repeat costs no read. */
  private readonly known = new Set<string>();

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly counters: Counters,
  ) {}

  add(source: string): void {
    if (this.known.has(source)) return;
    this.known.add(source);
    if (this.storage.kv.get(PREFIX + source) !== undefined) return;
    this.storage.kv.put(PREFIX + source, 1);
    this.counters.rowsWritten++;
  }

  /** Every paused source, forgotten as it is handed out. */
  take(): string[] {
    const sources = [...this.storage.kv.list({ prefix: PREFIX })].map(([key]) => key.slice(PREFIX.length));
    for (const source of sources) {
      this.storage.kv.delete(PREFIX + source);
      this.counters.rowsWritten++;
    }
    this.known.clear();
    return sources;
  }
}

/** The object behind a feed source: `booking:{id}` or `support:{providerId}`. */
export function conversationStub(env: Env, source: string) {
  if (source.startsWith("booking:")) return bookingRoom(env, source.slice("booking:".length));
  if (source.startsWith("support:")) return supportThread(env, source.slice("support:".length));
  return null;
}
