import { AdminFeedResponse, type ServerEvent, type SupportMessage } from "../../src/protocol";
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
import { type ChatStatus, StatusAndEvents } from "./status";
import { NoWebSocketError, type OpenSocket } from "./transport";

export type FeedOptions = {
  url: string;
  getToken: () => Promise<string>;
  open: OpenSocket | null;
  heartbeat?: { intervalMs: number; timeoutMs: number };
};

/**
 * An app-wide subscription: the user's inbox (`/me/ws`) or one shard of the admins' feed. Like a
 * booking chat, it connects when `connect()` is called, and keeps reconnecting until `close()`.
 */
export class Feed extends StatusAndEvents {
  protected readonly connection: Connection;
  private connecting: Promise<void> | null = null;

  constructor(options: FeedOptions, events = new Emitter()) {
    super(events);
    this.connection = new Connection({
      ...options,
      onOpen: (send) => this.opened(send),
      onFrame: (frame) => this.receive(frame),
      onStatus: (status) => this.watch.set(status),
    });
  }

  /**
   * Connects; resolves once the socket is open (from then on nothing is missed). Until then it
   * keeps trying, as after any loss; `close()` meanwhile rejects it. Throws NoWebSocketError at
   * once when there is no WebSocket.
   */
  connect(): Promise<void> {
    this.connection.assertCanOpen();
    if (this.connecting) return this.connecting;
    this.connecting = new Promise((resolve, reject) => {
      const off = this.watch.on((status) => {
        if (status === "open") resolve();
        else if (status === "stopped") reject(new Error("spana-chat: the feed was closed before it opened"));
        else return;
        off();
      });
    });
    this.connection.start();
    return this.connecting;
  }

  close(): void {
    this.connection.stop();
    this.connecting = null;
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
export class AdminFeed extends StatusAndEvents {
  private shards: Feed[] = [];
  private connecting: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly http: HttpOptions,
    private readonly feedAt: (path: string) => FeedOptions,
  ) {
    super();
  }

  /**
   * Lists the shards and connects to each; resolves once every one is open (from then on nothing
   * is missed), rejects if the service refuses (not an admin). Retries a failed listing with
   * backoff. Throws NoWebSocketError at once when there is no WebSocket.
   */
  connect(): Promise<void> {
    if (!this.feedAt("/admin/ws").open) throw new NoWebSocketError();
    this.stopped = false;
    this.connecting ??= this.open(1_000).catch((error: unknown) => {
      this.connecting = null;
      throw error;
    });
    return this.connecting;
  }

  close(): void {
    this.stopped = true;
    this.connecting = null;
    for (const shard of this.shards) shard.close();
    this.watch.set("stopped");
  }

  private async open(retryMs: number): Promise<void> {
    if (this.stopped) return;
    this.watch.set("connecting");
    let sockets: string[];
    try {
      sockets = AdminFeedResponse.parse(await request(this.http, "GET", "/admin/feed")).sockets;
    } catch (error) {
      // Refused (not an admin, say): retrying cannot help.
      if (error instanceof ChatClientError && error.status >= 400 && error.status < 500) {
        this.watch.set("stopped");
        throw error;
      }
      this.watch.set("offline");
      await new Promise((resolve) => setTimeout(resolve, retryMs));
      return this.open(Math.min(30_000, retryMs * 2));
    }
    if (this.stopped) return;
    this.shards = sockets.map((path) => new Feed(this.feedAt(path), this.events));
    for (const shard of this.shards) shard.on("status", () => this.watch.set(this.overall()));
    await Promise.all(this.shards.map((shard) => shard.connect()));
  }

  private overall(): ChatStatus {
    const statuses = this.shards.map((shard) => shard.status);
    if (statuses.every((status) => status === "open")) return "open";
    if (statuses.includes("offline")) return "offline";
    if (statuses.includes("connecting")) return "connecting";
    return this.stopped || statuses.includes("stopped") ? "stopped" : "idle";
  }
}
