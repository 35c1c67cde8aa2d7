import type { ServerEventName, ServerEventPayload } from "../../src/protocol";

type Handler<K extends ServerEventName> = (data: ServerEventPayload<K>) => void;

/** Typed listeners for server events; a throwing listener never breaks delivery to the others. */
export class Emitter {
  private readonly handlers = new Map<ServerEventName, Set<(data: never) => void>>();

  on<K extends ServerEventName>(event: K, handler: Handler<K>): () => void {
    const set = this.handlers.get(event) ?? new Set();
    set.add(handler as (data: never) => void);
    this.handlers.set(event, set);
    return () => set.delete(handler as (data: never) => void);
  }

  emit<K extends ServerEventName>(event: K, data: ServerEventPayload<K>): void {
    for (const handler of this.handlers.get(event) ?? []) {
      try {
        (handler as Handler<K>)(data);
      } catch (error) {
        console.error(`spana-chat: a "${event}" listener threw`, error);
      }
    }
  }
}
