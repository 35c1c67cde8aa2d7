import {
  AdminFeedResponse,
  type ServerEvent,
  type ServerEventName,
  type ServerEventPayload,
  type SupportMessage,
} from "../../src/protocol";
import { Connection } from "./connection";
import { Emitter } from "./emitter";
import {
  ChatClientError,
  type HttpOptions,
  REPLACEMENT_CHARACTER,
  replacementRefused,
  request,
} from "./http";
import { randomId } from "./random-id";
import { type ChatStatus, StatusWatch } from "./status";
import { NoWebSocketError, type OpenSocket } from "./transport";

export type FeedOptions = {
  url: string;
  getToken: () => Promise<string>;
  open: OpenSocket | null;
  heartbeat?: { intervalMs: number; timeoutMs: number };
};

/** An app-wide subscription: the user's inbox (`/me/ws`) or the admins' feed (`/admin/ws`). */
export class Feed {
  protected readonly connection: Connection;
  private readonly watch = new StatusWatch();
  /** Resolves once the socket has opened the first time. */
  readonly ready: Promise<void>;

  constructor(
    options: FeedOptions,
    protected readonly events = new Emitter(),
  ) {
    let markReady = () => {};
    this.ready = new Promise((resolve) => {
      markReady = resolve;
    });
    this.connection = new Connection({
      ...options,
      onOpen: (send) => {
        markReady();
        this.opened(send);
      },
      onFrame: (frame) => this.receive(frame),
      onStatus: (status) => this.watch.set(status),
    });
  }

  start(): this {
    this.connection.start();
    return this;
  }

  /** Where the connection is (see ChatStatus); `on("status")` hears every change. */
  get status(): ChatStatus {
    return this.watch.current;
  }

  on(event: "status", handler: (status: ChatStatus) => void): () => void;
  on<K extends ServerEventName>(event: K, handler: (data: ServerEventPayload<K>) => void): () => void;
  on(event: string, handler: (data: never) => void): () => void {
    if (event === "status") return this.watch.on(handler as (status: ChatStatus) => void);
    return this.events.on(
      event as ServerEventName,
      handler as (data: ServerEventPayload<ServerEventName>) => void,
    );
  }

  close(): void {
    this.connection.stop();
  }

  protected receive(frame: ServerEvent): void {
    if (this.seenBefore(frame)) return;
    this.events.emit(frame.event, frame.data as never);
  }

  /** Newest seq heard per conversation and kind, so a message the service sends again shows once. */
  private readonly newest = new Map<string, number>();

  private seenBefore(frame: ServerEvent): boolean {
    let key: string;
    let seq: number;
    if (frame.event === "booking-chat" || frame.event === "booking-chat-notification") {
      key = `${frame.event}:${frame.data.bookingId}`;
      seq = frame.data.seq;
    } else if (frame.event === "support-chat") {
      key = `support-chat:${frame.data.providerId}`;
      seq = frame.data.seq;
    } else return false;
    if (seq <= (this.newest.get(key) ?? 0)) return true;
    this.newest.set(key, seq);
    return false;
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
  sendSupport(text: string, clientMessageId: string = randomId()): Promise<SupportMessage> {
    const frame = JSON.stringify({ event: "support-chat", data: { message: text, clientMessageId } });
    if (frame.includes(REPLACEMENT_CHARACTER)) return Promise.reject(replacementRefused());
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

/**
 * The admins' feed: every booking and support thread, live. The service spreads it over shards
 * (`GET /admin/feed` lists one socket per shard); this opens all of them and hears them as one.
 * Order holds per booking and per thread, each of which lives on one shard.
 */
export class AdminFeed {
  private readonly events = new Emitter();
  private shards: Feed[] = [];
  private stopped = false;
  private retryMs = 1_000;
  private markReady = () => {};
  /** Resolves once every shard's socket has opened: from then on nothing is missed. */
  readonly ready: Promise<void> = new Promise((resolve) => {
    this.markReady = resolve;
  });

  constructor(
    private readonly http: HttpOptions,
    private readonly feedAt: (path: string) => FeedOptions,
  ) {}

  /** Throws NoWebSocketError at once when there is no WebSocket to open the shards with. */
  start(): this {
    if (!this.feedAt("/admin/ws").open) throw new NoWebSocketError();
    void this.open();
    return this;
  }

  on<K extends ServerEventName>(event: K, handler: (data: ServerEventPayload<K>) => void): () => void {
    return this.events.on(event, handler);
  }

  close(): void {
    this.stopped = true;
    for (const shard of this.shards) shard.close();
  }

  private async open(): Promise<void> {
    try {
      const { sockets } = AdminFeedResponse.parse(await request(this.http, "GET", "/admin/feed"));
      if (this.stopped) return;
      this.shards = sockets.map((path) => new Feed(this.feedAt(path), this.events).start());
      void Promise.all(this.shards.map((shard) => shard.ready)).then(() => this.markReady());
    } catch (error) {
      // Refused for good (not an admin, say): say so once and stop; otherwise try again later.
      if (error instanceof ChatClientError && error.status >= 400 && error.status < 500) {
        console.error("spana-chat: the admin feed was refused", error.message);
        return;
      }
      if (this.stopped) return;
      setTimeout(() => void this.open(), this.retryMs);
      this.retryMs = Math.min(30_000, this.retryMs * 2);
    }
  }
}
