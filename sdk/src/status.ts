import type { ServerEventName, ServerEventPayload } from "../../src/protocol";
import type { ConnectionStatus } from "./connection";
import { Emitter } from "./emitter";

/**
 * Where a chat's or feed's connection is: `idle` before it is started, `connecting`, `open`,
 * `offline` (lost; reconnecting with backoff, sends wait), `stopped` (closed by the app, or for good).
 */
export type ChatStatus = ConnectionStatus | "idle";

/** The current status and its listeners (`on("status", ...)`); a throwing listener breaks nothing. */
export class StatusWatch {
  current: ChatStatus = "idle";
  private readonly handlers = new Set<(status: ChatStatus) => void>();

  set(status: ChatStatus): void {
    if (status === this.current) return;
    this.current = status;
    for (const handler of this.handlers) {
      try {
        handler(status);
      } catch (error) {
        console.error('spana-chat: a "status" listener threw', error);
      }
    }
  }

  on(handler: (status: ChatStatus) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }
}

/**
 * What a booking chat, the inbox and the admin feed have alike: `status`, and `on()` for the
 * server's typed events and for `status` changes.
 */
export abstract class StatusAndEvents {
  protected readonly watch = new StatusWatch();

  constructor(protected readonly events: Emitter = new Emitter()) {}

  /** Where the connection is (see ChatStatus); the admin feed's is `open` only once every shard is. */
  get status(): ChatStatus {
    return this.watch.current;
  }

  /**
   * Typed events (a chat's `booking-chat` arrives exactly once per message, in seq order), or
   * `status`: the connection's status, for a "Reconnecting..." line. Returns the unsubscribe.
   */
  on(event: "status", handler: (status: ChatStatus) => void): () => void;
  on<K extends ServerEventName>(event: K, handler: (data: ServerEventPayload<K>) => void): () => void;
  on(event: string, handler: (data: never) => void): () => void {
    if (event === "status") return this.watch.on(handler as (status: ChatStatus) => void);
    return this.events.on(
      event as ServerEventName,
      handler as (data: ServerEventPayload<ServerEventName>) => void,
    );
  }
}
