import type { ServerEventName, ServerEventPayload } from "../../src/protocol";
import type { ConnectionStatus } from "./connection";
import type { Emitter } from "./emitter";

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

/** What every chat's and feed's `on()` does: `status` to its watch, any other event to its emitter. */
export function subscribe(
  watch: StatusWatch,
  events: Emitter,
  event: string,
  handler: (data: never) => void,
): () => void {
  if (event === "status") return watch.on(handler as (status: ChatStatus) => void);
  return events.on(event as ServerEventName, handler as (data: ServerEventPayload<ServerEventName>) => void);
}
