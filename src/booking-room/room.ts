import { DurableObject } from "cloudflare:workers";
import type { Identity } from "../auth/jwt";
import { getConfig, type Limits } from "../config";
import { Background } from "../conversation/background";
import { D1Outbox } from "../conversation/d1-outbox";
import { MessageStore } from "../conversation/message-store";
import { NotifyOutbox } from "../delivery/notify-outbox";
import { errorResponse, fail, ok, type RoomResult } from "../errors";
import { describeError } from "../log";
import {
  type AcceptResponse,
  type Booking,
  type BookingAction,
  type ChatTokenResponse,
  CloseCode,
  type CreateBookingBody,
  clientEventData,
  type HistoryQuery,
  type HistoryResponse,
} from "../protocol";
import {
  acceptSocket,
  answerHeartbeats,
  closeBack,
  closeIfExpired,
  liveSockets,
  tooManySockets,
} from "../sockets/accept";
import { ChatError, parseFrame, sendChatError } from "../sockets/frames";
import { readIdentity } from "../sockets/identity-header";
import { RateLimiter } from "../sockets/rate-limiter";
import { encode, readState, type SocketState, sendFrame, userTag, writeState } from "../sockets/socket-state";
import { transaction } from "../storage/transaction";
import { type BookingRecord, BookingStore, holdsChatToken, partyOf, toPublicBooking } from "./booking-store";
import { join, markRead, send } from "./chat-frames";
import { bookingMessageRow, bookingMirror } from "./d1-mirror";
import {
  enqueueLifecycle,
  enqueueMessage,
  enqueueRead,
  type BookingAction as FeedAction,
  messageFor,
  presentMessage,
  type RoomParts,
  summaryOfTarget,
} from "./fan-out";
import { type Actor, type Audience, Lifecycle, type Notice, type Transition } from "./lifecycle";
import { otherParty, ReadState } from "./read-state";

/** Messages read per step while replaying a resume; the whole backlog is sent in one go. */
const REPLAY_PAGE = 500;

/**
 * One booking's chat: the authority on its lifecycle, its chat tokens and its messages.
 * Everything that changes state runs synchronously within one event, so requests to the same
 * booking are serialized by the runtime and never race.
 */
export class BookingRoom extends DurableObject<Env> {
  private readonly bookings: BookingStore;
  private readonly messages: MessageStore;
  private readonly reads: ReadState;
  private readonly background: Background;
  private readonly rateLimiter = new RateLimiter();
  /** Created with the booking (its id names the source); holds only a hint, so it may outlive a wake. */
  private notify: NotifyOutbox | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // Synchronous, so no event can reach the room before its schema is current.
    this.bookings = ctx.storage.transactionSync(() => new BookingStore(ctx.storage.sql));
    this.messages = new MessageStore(ctx.storage.sql);
    this.reads = new ReadState(ctx.storage.sql);
    answerHeartbeats(ctx);
    this.background = new Background(
      ctx,
      "booking room",
      () => this.d1Outbox(),
      () => this.parts()?.notify ?? null,
    );
  }

  // ---- HTTP-facing RPC, called by the Worker's routes ----

  async create(bookingId: string, identity: Identity, body: CreateBookingBody): Promise<RoomResult<Booking>> {
    return this.apply("created", () => this.lifecycle().create(bookingId, identity, body), toPublicBooking);
  }

  async confirmPayment(actor: Actor, paymentReference: string | null): Promise<RoomResult<Booking>> {
    return this.apply(
      "paid",
      () => this.lifecycle().confirmPayment(actor, paymentReference),
      toPublicBooking,
    );
  }

  async accept(identity: Identity): Promise<RoomResult<AcceptResponse>> {
    return this.apply(
      "accepted",
      () => this.lifecycle().accept(identity),
      (outcome) => ({
        booking: toPublicBooking(outcome.booking),
        chatToken: outcome.chatToken,
        waitingForPayment: outcome.waitingForPayment,
      }),
    );
  }

  async transition(
    action: Exclude<BookingAction, "accept">,
    identity: Identity,
  ): Promise<RoomResult<Booking>> {
    const lifecycle = this.lifecycle();
    const steps: Record<typeof action, [FeedAction, () => Transition<Booking>]> = {
      decline: ["declined", () => present(lifecycle.decline(identity))],
      start: ["started", () => present(lifecycle.start(identity))],
      complete: ["completed", () => present(lifecycle.complete(identity))],
      cancel: ["cancelled", () => present(lifecycle.cancel(identity))],
    };
    const [feedAction, run] = steps[action];
    return this.apply(feedAction, run, (booking) => booking);
  }

  async view(identity: Identity): Promise<RoomResult<Booking>> {
    const booking = this.bookings.get();
    if (!booking) return fail(404, "booking_not_found", "Booking not found");
    if (identity.role !== "admin" && partyOf(booking, identity) === null) {
      return fail(403, "forbidden", "You are not a participant of this booking");
    }
    return ok(toPublicBooking(booking));
  }

  async chatToken(identity: Identity): Promise<RoomResult<ChatTokenResponse>> {
    const booking = this.bookings.get();
    if (!booking) return fail(404, "booking_not_found", "Booking not found");
    const party = partyOf(booking, identity);
    if (party === null)
      return fail(403, "forbidden", "Only the booking's customer and provider hold chat tokens");
    const chatToken = party === "customer" ? booking.customerChatToken : booking.providerChatToken;
    if (!chatToken) {
      const why = party === "customer" ? "payment is confirmed" : "you accept the booking";
      return fail(404, "token_not_issued", `Your chat token is issued once ${why}`);
    }
    return ok({ bookingId: booking.id, role: party, chatToken, chatActive: booking.chatActive });
  }

  async history(
    identity: Identity,
    chatToken: string | null,
    query: HistoryQuery,
  ): Promise<RoomResult<HistoryResponse>> {
    const parts = this.parts();
    if (!parts) return fail(404, "booking_not_found", "Booking not found");
    const { booking } = parts;
    const party = partyOf(booking, identity);
    if (identity.role !== "admin") {
      if (party === null) return fail(403, "forbidden", "You are not a participant of this booking");
      if (!holdsChatToken(booking, identity, chatToken ?? undefined)) {
        return fail(403, "invalid_token", "Invalid chat token");
      }
    }
    const page = this.messages.page(query.limit, { before: query.before, after: query.after });
    return ok({
      bookingId: booking.id,
      chatActive: booking.chatActive,
      chatTerminatedAt: booking.chatTerminatedAt,
      messages: page.messages.map((m) => messageFor(parts, party ?? "admin", m)),
      nextBefore: page.nextBefore,
    });
  }

  // ---- WebSockets ----

  override async fetch(request: Request): Promise<Response> {
    const identity = readIdentity(request);
    if (!identity) return errorResponse(401, "unauthorized", "Missing caller identity");
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return errorResponse(426, "invalid_request", "Expected a WebSocket upgrade");
    }
    const booking = this.bookings.get();
    if (!booking) return errorResponse(404, "booking_not_found", "Booking not found");
    if (identity.role !== "admin" && partyOf(booking, identity) === null) {
      return errorResponse(403, "forbidden", "You are not a participant of this booking");
    }
    const limits = getConfig(this.env).limits;
    return (
      tooManySockets(this.ctx, identity.userId, limits.maxSocketsPerUser) ??
      acceptSocket(this.ctx, request, identity)
    );
  }

  override async webSocketMessage(ws: WebSocket, raw: string | ArrayBuffer): Promise<void> {
    try {
      const state = readState(ws);
      if (!state) return ws.close(CloseCode.policyViolation, "unknown connection");
      if (closeIfExpired(ws, state)) return;
      await this.handleFrame(ws, state, raw);
    } catch (error) {
      console.error("booking room: frame failed", describeError(error));
      sendFrame(ws, encode("chat-error", { code: "internal_error", message: "Something went wrong" }));
    }
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    closeBack(ws, code, reason);
  }

  override async webSocketError(_ws: WebSocket, error: unknown): Promise<void> {
    console.warn("booking room: socket error", error instanceof Error ? error.message : error);
  }

  override async alarm(): Promise<void> {
    await this.background.alarm();
  }

  // ---- internals ----

  /** One SQLite transaction; if it rolls back, what was cached inside it is forgotten too. */
  private transaction<T>(run: () => T): T {
    const caches = [this.bookings, this.messages, this.reads, ...(this.notify ? [this.notify] : [])];
    return transaction(this.ctx.storage, caches, run);
  }

  private lifecycle(): Lifecycle {
    return new Lifecycle(this.bookings, getConfig(this.env).chatTokenSecret);
  }

  /** The booking and its stores; null until the booking exists. */
  private parts(): RoomParts | null {
    const booking = this.bookings.get();
    if (!booking) return null;
    this.notify ??= new NotifyOutbox(this.ctx.storage.sql, this.env, `booking:${booking.id}`, (target) => {
      const current = this.bookings.get();
      return current
        ? summaryOfTarget({ booking: current, messages: this.messages, reads: this.reads }, target)
        : null;
    });
    return { booking, messages: this.messages, reads: this.reads, notify: this.notify };
  }

  private d1Outbox(): D1Outbox | null {
    const booking = this.bookings.get();
    if (!booking) return null;
    return new D1Outbox(this.ctx.storage.sql, this.env.DB, this.messages, bookingMessageRow(booking.id), () =>
      bookingMirror(this.bookings),
    );
  }

  /** Runs a lifecycle step in one transaction with its queued deliveries, then tells the sockets. */
  private async apply<T, R>(
    action: FeedAction,
    run: () => Transition<T>,
    respond: (value: T) => R,
  ): Promise<RoomResult<R>> {
    const result = this.transaction(() => {
      const versionBefore = this.bookings.get()?.version ?? 0;
      const outcome = run();
      const parts = this.parts();
      // Idempotent repeats (a second payment, a second accept) change nothing and announce nothing.
      if (outcome.ok && parts && parts.booking.version !== versionBefore) {
        enqueueLifecycle(parts, outcome.value.notices, action);
      }
      return outcome;
    });
    if (!result.ok) return result;
    this.sendNotices(result.value.notices);
    // Booking changes are rare and their HTTP caller waits for them: no batching delay.
    await this.background.afterWrite({ urgent: true });
    return ok(respond(result.value.value));
  }

  private async handleFrame(ws: WebSocket, state: SocketState, raw: string | ArrayBuffer): Promise<void> {
    const { limits } = getConfig(this.env);
    const frame = parseFrame(raw, clientEventData, limits.maxFrameBytes);
    if (frame instanceof ChatError) return sendChatError(ws, frame);
    const parts = this.parts();
    // Errors name the booking only when it is this connection's; another id is not echoed back.
    const ownId = frame.data.bookingId === parts?.booking.id ? frame.data.bookingId : undefined;

    if (frame.event === "join-booking") {
      const joined = join(parts?.booking ?? null, state, frame.data, parts ? this.messages : null);
      if (joined instanceof ChatError) return sendChatError(ws, joined, ownId);
      writeState(ws, joined.state);
      sendFrame(
        ws,
        encode("booking-joined", {
          bookingId: frame.data.bookingId,
          chatActive: joined.chatActive,
          role: state.role,
          lastSeq: joined.lastSeq,
        }),
      );
      if (parts && frame.data.sinceSeq !== undefined) this.replay(ws, parts, state, frame.data.sinceSeq);
      return;
    }

    if (frame.event === "mark-read") {
      const read = markRead(parts?.booking ?? null, state, frame.data, parts ? this.messages : null);
      if (read instanceof ChatError) return sendChatError(ws, read, ownId);
      if (!parts) return;
      const moved = this.transaction(() => {
        if (!this.reads.advance(read.party, read.seq)) return false;
        enqueueRead(parts, read.party, read.seq);
        return true;
      });
      if (!moved) return;
      const other = otherParty(read.party);
      const otherId = other === "customer" ? parts.booking.customerId : parts.booking.providerId;
      const receipt = encode("messages-read", {
        bookingId: parts.booking.id,
        readerId: state.userId,
        seq: read.seq,
      });
      for (const socket of liveSockets(this.ctx, userTag(otherId))) {
        if (readState(socket)?.role === other) sendFrame(socket, receipt);
      }
      await this.background.afterWrite();
      return;
    }

    const limited = this.rateLimit(state, limits, frame.data.clientMessageId);
    if (limited) return sendChatError(ws, limited, ownId);
    const sent = this.transaction(() => {
      const outcome = send(parts?.booking ?? null, state, frame.data, parts ? this.messages : null, limits);
      if (!(outcome instanceof ChatError) && !outcome.duplicate && parts) {
        enqueueMessage(parts, outcome.message, outcome.party);
      }
      return outcome;
    });
    if (sent instanceof ChatError) return sendChatError(ws, sent, ownId);
    const payload = encode("booking-chat", presentMessage(frame.data.bookingId, sent.message));
    if (sent.duplicate) return sendFrame(ws, payload);
    for (const socket of liveSockets(this.ctx)) {
      if (readState(socket)?.joined) sendFrame(socket, payload);
    }
    // The sender has its acknowledgement; inboxes and the admin feed follow in the background.
    await this.background.afterWrite({ awaitDelivery: false });
  }

  /**
   * Resume: every message after `sinceSeq`, oldest first. Runs without awaiting, so no live
   * message can slip in between: the client sees each message once, in order, with no gap.
   */
  private replay(ws: WebSocket, parts: RoomParts, state: SocketState, sinceSeq: number): void {
    const reader = partyOf(parts.booking, state) ?? "admin";
    let after = sinceSeq;
    for (;;) {
      const page = this.messages.page(REPLAY_PAGE, { after });
      for (const m of page.messages) sendFrame(ws, encode("booking-chat", messageFor(parts, reader, m)));
      const last = page.messages.at(-1);
      if (!last || page.messages.length < REPLAY_PAGE) return;
      after = last.seq;
    }
  }

  /** Per-socket and per-user token buckets; a refusal says when to try again. */
  private rateLimit(state: SocketState, limits: Limits, clientMessageId?: string): ChatError | null {
    for (const [key, rate, burst] of [
      [`socket:${state.id}`, limits.sendRatePerSocket, limits.sendBurstPerSocket],
      [`user:${state.userId}`, limits.sendRatePerUser, limits.sendBurstPerUser],
    ] as const) {
      const taken = this.rateLimiter.take(key, rate, burst);
      if (!taken.ok) {
        const message = `Too many messages; retry in ${taken.retryAfterMs} ms`;
        return new ChatError("rate_limited", message, clientMessageId, taken.retryAfterMs);
      }
    }
    return null;
  }

  /** Sends lifecycle events to the sockets of the users they concern, tokens only to their holders. */
  private sendNotices(notices: Notice[]): void {
    const booking = this.bookings.get();
    if (!booking || notices.length === 0) return;
    for (const notice of notices) {
      const frame = JSON.stringify(notice.event);
      for (const ws of this.recipients(notice.to, booking.customerId, booking.providerId))
        sendFrame(ws, frame);
    }
  }

  private recipients(audiences: Audience[], customerId: string, providerId: string): Set<WebSocket> {
    const sockets = new Set<WebSocket>();
    for (const audience of audiences) {
      if (audience === "customer" || audience === "provider") {
        const userId = audience === "customer" ? customerId : providerId;
        for (const ws of liveSockets(this.ctx, userTag(userId))) {
          if (readState(ws)?.role === audience) sockets.add(ws);
        }
        continue;
      }
      for (const ws of liveSockets(this.ctx)) {
        if (audience === "everyone" || readState(ws)?.role === "admin") sockets.add(ws);
      }
    }
    return sockets;
  }
}

function present(result: Transition<BookingRecord>): Transition<Booking> {
  if (!result.ok) return result;
  return ok({ value: toPublicBooking(result.value.value), notices: result.value.notices });
}
