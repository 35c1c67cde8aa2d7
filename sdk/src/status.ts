import type { ConnectionStatus } from "./connection";

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
