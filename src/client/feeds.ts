import type { ServerEvent, ServerEventName, ServerEventPayload, SupportMessage } from "../protocol";
import { Connection } from "./connection";
import { Emitter } from "./emitter";
import { ChatClientError } from "./http";
import type { OpenSocket } from "./transport";

type FeedOptions = {
  url: string;
  getToken: () => Promise<string>;
  open: OpenSocket;
  heartbeat?: { intervalMs: number; timeoutMs: number };
};

/** An app-wide subscription: the user's inbox (`/me/ws`) or the admins' feed (`/admin/ws`). */
export class Feed {
  protected readonly events = new Emitter();
  protected readonly connection: Connection;

  constructor(options: FeedOptions) {
    this.connection = new Connection({
      ...options,
      onOpen: (send) => this.opened(send),
      onFrame: (frame) => this.receive(frame),
    });
  }

  start(): this {
    this.connection.start();
    return this;
  }

  on<K extends ServerEventName>(event: K, handler: (data: ServerEventPayload<K>) => void): () => void {
    return this.events.on(event, handler);
  }

  close(): void {
    this.connection.stop();
  }

  protected receive(frame: ServerEvent): void {
    this.events.emit(frame.event, frame.data as never);
  }

  /** Called on every (re)connect. */
  protected opened(_send: (frame: string) => void): void {}
}

type PendingSupport = {
  resolve: (m: SupportMessage) => void;
  reject: (e: ChatClientError) => void;
  frame: string;
};

/** The user's inbox; providers also chat with the admins through it. */
export class Inbox extends Feed {
  private readonly pending = new Map<string, PendingSupport>();

  /** Providers: sends a support message; resolves with the stored message once acknowledged. */
  sendSupport(text: string, clientMessageId: string = crypto.randomUUID()): Promise<SupportMessage> {
    const frame = JSON.stringify({ event: "support-chat", data: { message: text, clientMessageId } });
    return new Promise((resolve, reject) => {
      this.pending.set(clientMessageId, { resolve, reject, frame });
      this.connection.send(frame);
    });
  }

  /** Unacknowledged support messages go out again after a reconnect; the server stores each once. */
  protected override opened(send: (frame: string) => void): void {
    for (const pending of this.pending.values()) send(pending.frame);
  }

  protected override receive(frame: ServerEvent): void {
    if (frame.event === "support-chat" && frame.data.clientMessageId) {
      this.pending.get(frame.data.clientMessageId)?.resolve(frame.data);
      this.pending.delete(frame.data.clientMessageId);
    }
    if (frame.event === "chat-error" && frame.data.clientMessageId) {
      const { code, message, retryAfterMs } = frame.data;
      this.pending
        .get(frame.data.clientMessageId)
        ?.reject(new ChatClientError(0, code, message, retryAfterMs));
      this.pending.delete(frame.data.clientMessageId);
    }
    super.receive(frame);
  }
}
