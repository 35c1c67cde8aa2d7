import {
  type AttachmentRef,
  ChatTokenResponse,
  HistoryResponse,
  type Message,
  type Metadata,
  type ServerEvent,
  type ServerEventPayload,
  UploadResponse,
} from "../../src/protocol";
import { Connection, type ConnectionStatus } from "./connection";
import {
  ChatClientError,
  type FileBody,
  type HttpOptions,
  REPLACEMENT_CHARACTER,
  replacementRefused,
  request,
} from "./http";
import { LiveState } from "./live-state";
import { randomId } from "./random-id";
import { StatusAndEvents } from "./status";
import type { OpenSocket } from "./transport";

/**
 * Sends awaiting their acknowledgement at once: a backlog kept while offline goes out this many at
 * a time, within the server's send burst and far within its frame budget.
 */
const MAX_IN_FLIGHT = 20;

type PendingSend = {
  frame: string;
  resolve: (message: Message) => void;
  reject: (error: ChatClientError) => void;
};

export type BookingChatOptions = {
  http: HttpOptions;
  wsUrl: string;
  open: OpenSocket | null;
  bookingId: string;
  /** The caller's chat token; fetched from the API when omitted. Admins have none. */
  chatToken?: string;
  /** Admins watch without a token. */
  asAdmin?: boolean;
  /** Resume after this seq (for an app that already shows messages up to it). */
  sinceSeq?: number;
  heartbeat?: { intervalMs: number; timeoutMs: number };
};

/**
 * One booking's chat. Delivers every message exactly once and in seq order, however often the
 * connection drops: it resumes with `sinceSeq` and drops repeats. Sends made while offline are
 * kept and sent (once, thanks to their clientMessageId) when the connection is back.
 */
export class BookingChat extends StatusAndEvents {
  private readonly pending = new Map<string, PendingSend>();
  /** The pending sends out on the current connection. */
  private readonly inFlight = new Set<string>();
  private readonly connection: Connection;
  private readonly live = new LiveState((typing) => this.events.emit("typing", typing));
  private chatToken: string | undefined;
  /** Highest seq delivered to the app; null until the first join says where "now" is. */
  private lastSeq: number | null;
  /** The end of the page the last join replays, when more is left after it. */
  private replayThrough: number | null = null;
  private joined = false;
  private terminated = false;

  constructor(private readonly options: BookingChatOptions) {
    super();
    this.chatToken = options.chatToken;
    this.lastSeq = options.sinceSeq ?? null;
    this.connection = new Connection({
      url: `${options.wsUrl}/bookings/${options.bookingId}/ws`,
      getToken: options.http.getToken,
      open: options.open,
      heartbeat: options.heartbeat,
      onOpen: (send) => this.join(send),
      onFrame: (frame) => this.receive(frame),
      onStatus: (status) => {
        this.watch.set(status);
        this.statusChanged(status);
      },
    });
  }

  /** Connects (fetching the chat token first if needed). Resolves once the first join is answered. */
  async connect(): Promise<ServerEventPayload<"booking-joined">> {
    this.connection.assertCanOpen();
    await this.tokenHeaders();
    const joined = new Promise<ServerEventPayload<"booking-joined">>((resolve, reject) => {
      const offJoined = this.events.on("booking-joined", (data) => {
        offJoined();
        offError();
        resolve(data);
      });
      const offError = this.events.on("chat-error", (data) => {
        if (data.clientMessageId !== undefined) return;
        offJoined();
        offError();
        reject(new ChatClientError(0, data.code, data.message));
      });
    });
    this.connection.start();
    return joined;
  }

  /** Messages sent and not yet stored: what a "sending" or "Offline, N waiting" line shows. */
  get waiting(): number {
    return this.pending.size;
  }

  /**
   * Sends a message; resolves with the stored message once acknowledged, rejects with its
   * chat-error. `attachments`: ids from `upload()` (at most 5); the text may then be empty.
   */
  send(
    text: string,
    options: { metadata?: Metadata; clientMessageId?: string; attachments?: string[] } = {},
  ): Promise<Message> {
    if (this.terminated)
      return Promise.reject(new ChatClientError(0, "chat_terminated", "The chat has ended"));
    const clientMessageId = options.clientMessageId ?? randomId();
    const data = {
      bookingId: this.options.bookingId,
      chatToken: this.chatToken ?? "",
      message: text,
      clientMessageId,
      ...(options.metadata ? { metadata: options.metadata } : {}),
      ...(options.attachments?.length ? { attachments: options.attachments } : {}),
    };
    const frame = JSON.stringify({ event: "booking-chat", data });
    if (frame.includes(REPLACEMENT_CHARACTER)) return Promise.reject(replacementRefused());
    return new Promise((resolve, reject) => {
      this.pending.set(clientMessageId, { frame, resolve, reject });
      this.sendPending();
    });
  }

  /**
   * Tells the other party whether this user is typing. Call it on every keystroke and when the
   * box empties or the message is sent: it goes out only on a change, and again every few seconds
   * while typing goes on. Nothing is sent while not joined (it is live only, never kept).
   */
  typing(isTyping: boolean): void {
    if (!this.joined || !this.live.shouldSendTyping(isTyping)) return;
    this.connection.send(
      JSON.stringify({ event: "typing", data: { bookingId: this.options.bookingId, isTyping } }),
    );
  }

  /** The booking's parties online now, as the last `presence` said (admins are never listed). */
  get online(): ServerEventPayload<"presence">["online"] {
    return this.live.online;
  }

  /** Marks every message up to `seq` as read by this party. */
  markRead(seq: number): void {
    this.connection.send(
      JSON.stringify({ event: "mark-read", data: { bookingId: this.options.bookingId, seq } }),
    );
  }

  /**
   * Uploads a photo or file for a message (send its `id` with `send(text, { attachments })`
   * within the hour). `contentType` defaults to the Blob's own type; the service checks the bytes.
   */
  async upload(file: FileBody, options: { name: string; contentType?: string }): Promise<AttachmentRef> {
    const type =
      options.contentType ?? (typeof Blob !== "undefined" && file instanceof Blob ? file.type : "");
    const query = new URLSearchParams({ name: options.name });
    const headers = { ...(await this.tokenHeaders()), "Content-Type": type || "application/octet-stream" };
    const path = `/chat/booking/${this.options.bookingId}/attachments?${query}`;
    const answer = await request(this.options.http, "POST", path, { bytes: file, headers });
    return UploadResponse.parse(answer).attachment;
  }

  /** A file of this booking's messages, as a Blob (with its type). */
  async attachment(attachmentId: string): Promise<Blob> {
    const headers = await this.tokenHeaders();
    const path = `/chat/booking/${this.options.bookingId}/attachments/${encodeURIComponent(attachmentId)}`;
    return (await request(this.options.http, "GET", path, { headers, binary: true })) as Blob;
  }

  /** Reports the other party's message `seq` to the admins. */
  async report(seq: number, reason: string): Promise<void> {
    const headers = await this.tokenHeaders();
    const path = `/chat/booking/${this.options.bookingId}/messages/${seq}/report`;
    await request(this.options.http, "POST", path, { headers, body: { reason } });
  }

  /** A page of history, ascending; pass `nextBefore` as `before` for older messages. */
  async history(page: { before?: number; after?: number; limit?: number } = {}): Promise<HistoryResponse> {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(page)) if (value !== undefined) query.set(key, String(value));
    const headers = await this.tokenHeaders();
    const path = `/chat/booking/${this.options.bookingId}?${query}`;
    return HistoryResponse.parse(await request(this.options.http, "GET", path, { headers }));
  }

  /** The highest seq delivered to the app so far (0 before the first join). */
  get seq(): number {
    return this.lastSeq ?? 0;
  }

  /** Drops the socket as a network loss would; the client reconnects and resumes by itself. */
  simulateDisconnect(): void {
    this.connection.reconnect();
  }

  close(): void {
    this.live.clear();
    this.connection.stop();
  }

  /** `X-Chat-Token` for the HTTP calls of a party (fetching the token the first time); none for admins. */
  private async tokenHeaders(): Promise<Record<string, string>> {
    if (!this.options.asAdmin && this.chatToken === undefined) {
      const path = `/chat/booking/${this.options.bookingId}/token`;
      this.chatToken = ChatTokenResponse.parse(await request(this.options.http, "GET", path)).chatToken;
    }
    return this.chatToken ? { "X-Chat-Token": this.chatToken } : {};
  }

  private join(send: (frame: string) => void): void {
    this.joined = false;
    send(this.joinFrame());
  }

  private joinFrame(): string {
    const data = {
      bookingId: this.options.bookingId,
      ...(this.chatToken ? { chatToken: this.chatToken } : {}),
      ...(this.lastSeq !== null ? { sinceSeq: this.lastSeq } : {}),
    };
    return JSON.stringify({ event: "join-booking", data });
  }

  /** Once the page a join replays is in and more is left, joins again from there. */
  private continueReplay(): void {
    if (this.replayThrough === null || (this.lastSeq ?? 0) < this.replayThrough) return;
    this.replayThrough = null;
    this.connection.send(this.joinFrame());
  }

  private statusChanged(status: ConnectionStatus): void {
    if (status !== "open") {
      this.joined = false;
      this.inFlight.clear();
    }
  }

  /** Sends what is pending and not yet out on this connection, at most MAX_IN_FLIGHT at a time. */
  private sendPending(): void {
    if (!this.joined) return;
    for (const [id, pending] of this.pending) {
      if (this.inFlight.size >= MAX_IN_FLIGHT) return;
      if (this.inFlight.has(id)) continue;
      if (!this.connection.send(pending.frame)) return;
      this.inFlight.add(id);
    }
  }

  /** A pending send is answered (stored, or refused): it leaves the queue, and the next goes out. */
  private settle(clientMessageId: string): PendingSend | undefined {
    const pending = this.pending.get(clientMessageId);
    this.pending.delete(clientMessageId);
    this.inFlight.delete(clientMessageId);
    this.sendPending();
    return pending;
  }

  private receive(frame: ServerEvent): void {
    switch (frame.event) {
      case "booking-joined":
        this.joined = true;
        if (this.lastSeq === null) this.lastSeq = frame.data.lastSeq;
        // A long backlog comes a page per join: ask for the next once this one is in.
        this.replayThrough =
          frame.data.replayThrough !== undefined && frame.data.replayThrough < frame.data.lastSeq
            ? frame.data.replayThrough
            : null;
        this.events.emit("booking-joined", frame.data);
        // Everything not yet acknowledged goes out again, in order; the server stores each once.
        this.inFlight.clear();
        this.sendPending();
        this.continueReplay();
        return;
      case "booking-chat":
        this.deliver(frame.data);
        return;
      case "chat-error": {
        const pending = frame.data.clientMessageId ? this.settle(frame.data.clientMessageId) : undefined;
        if (pending) {
          pending.reject(
            new ChatClientError(0, frame.data.code, frame.data.message, frame.data.retryAfterMs),
          );
        }
        // A join refused for its rate: try again when the server says.
        if (frame.data.code === "rate_limited" && !frame.data.clientMessageId) {
          setTimeout(() => this.connection.send(this.joinFrame()), frame.data.retryAfterMs ?? 1_000);
        }
        this.events.emit("chat-error", frame.data);
        // The chat ended while this party was away (its chat-terminated went to nobody): ended here too.
        if (frame.data.code === "chat_terminated" && !frame.data.clientMessageId)
          this.end(frame.data.message);
        return;
      }
      case "typing":
        this.live.heardTyping(frame.data);
        return;
      case "presence":
        this.live.online = frame.data.online;
        this.events.emit("presence", frame.data);
        return;
      case "chat-terminated":
        this.events.emit("chat-terminated", frame.data);
        this.end(frame.data.message);
        return;
      default:
        this.events.emit(frame.event, frame.data as never);
    }
  }

  /** The chat is over: what waits to be sent is refused with chat_terminated, and nothing reconnects. */
  private end(message: string): void {
    this.terminated = true;
    this.inFlight.clear();
    for (const [id, pending] of this.pending) {
      this.pending.delete(id);
      pending.reject(new ChatClientError(0, "chat_terminated", message));
    }
    this.connection.stop();
  }

  private deliver(message: Message): void {
    const pending = message.clientMessageId ? this.settle(message.clientMessageId) : undefined;
    pending?.resolve(message);
    // Replays and resends can repeat a message; the app sees each seq once, in order.
    const last = this.lastSeq ?? 0;
    if (message.seq <= last) return;
    if (message.seq > last + 1) {
      // A gap cannot happen with resume; if it ever does, reconnecting replays what is missing.
      this.connection.reconnect();
      return;
    }
    this.lastSeq = message.seq;
    this.events.emit("booking-chat", message);
    this.continueReplay();
  }
}
