import { DurableObject } from "cloudflare:workers";
import type { Identity } from "../auth/jwt";
import { getConfig } from "../config";
import { errorResponse, fail, ok, type RoomResult } from "../errors";
import {
  type AcceptResponse,
  type Booking,
  type BookingAction,
  type ChatTokenResponse,
  CloseCode,
  type CreateBookingBody,
  type HistoryQuery,
  type HistoryResponse,
  SUBPROTOCOL,
} from "../protocol";
import { BookingStore, holdsChatToken, partyOf, toPublicBooking } from "./booking-store";
import { ChatError, join, parseClientFrame, send } from "./chat-frames";
import { readIdentity } from "./connect";
import { type Actor, type Audience, Lifecycle, type Notice, type Transition } from "./lifecycle";
import { MessageStore } from "./message-store";
import { backoffMs, D1Outbox, FLUSH_DELAY_MS } from "./outbox";
import { encode, readState, type SocketState, sendFrame, userTag, writeState } from "./sockets";

/**
 * One booking's chat: the authority on its lifecycle, its chat tokens and its messages.
 * Everything that changes state runs synchronously within one event, so requests to the same
 * booking are serialized by the runtime and never race.
 */
export class BookingRoom extends DurableObject<Env> {
  private readonly bookings: BookingStore;
  private messageStore: MessageStore | null = null;
  private flushScheduled = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // Synchronous, so no event can reach the room before its schema is current.
    this.bookings = ctx.storage.transactionSync(() => new BookingStore(ctx.storage.sql));
  }

  // ---- HTTP-facing RPC, called by the Worker's routes ----

  async create(bookingId: string, identity: Identity, body: CreateBookingBody): Promise<RoomResult<Booking>> {
    return this.apply(() => this.lifecycle().create(bookingId, identity, body), toPublicBooking);
  }

  async confirmPayment(actor: Actor, paymentReference: string | null): Promise<RoomResult<Booking>> {
    return this.apply(() => this.lifecycle().confirmPayment(actor, paymentReference), toPublicBooking);
  }

  async accept(identity: Identity): Promise<RoomResult<AcceptResponse>> {
    return this.apply(
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
    const run = {
      decline: () => lifecycle.decline(identity),
      start: () => lifecycle.start(identity),
      complete: () => lifecycle.complete(identity),
      cancel: () => lifecycle.cancel(identity),
    }[action];
    return this.apply(run, toPublicBooking);
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
    const booking = this.bookings.get();
    const messages = this.messages();
    if (!booking || !messages) return fail(404, "booking_not_found", "Booking not found");
    if (identity.role !== "admin") {
      if (partyOf(booking, identity) === null)
        return fail(403, "forbidden", "You are not a participant of this booking");
      if (!holdsChatToken(booking, identity, chatToken ?? undefined)) {
        return fail(403, "invalid_token", "Invalid chat token");
      }
    }
    const page = messages.page(query.limit, { before: query.before, after: query.after });
    return ok({
      bookingId: booking.id,
      chatActive: booking.chatActive,
      chatTerminatedAt: booking.chatTerminatedAt,
      messages: page.messages,
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

    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server, [userTag(identity.userId)]);
    writeState(server, {
      v: 1,
      userId: identity.userId,
      role: identity.role,
      joined: false,
      jwtExpiresAt: identity.expiresAt,
    });
    const offered =
      request.headers
        .get("Sec-WebSocket-Protocol")
        ?.split(",")
        .map((p) => p.trim()) ?? [];
    const headers = offered.includes(SUBPROTOCOL) ? { "Sec-WebSocket-Protocol": SUBPROTOCOL } : undefined;
    return new Response(null, { status: 101, webSocket: client, headers });
  }

  override async webSocketMessage(ws: WebSocket, raw: string | ArrayBuffer): Promise<void> {
    try {
      const state = readState(ws);
      if (!state) {
        ws.close(CloseCode.policyViolation, "unknown connection");
        return;
      }
      if (state.jwtExpiresAt <= Date.now()) {
        // Every frame is authorized afresh, including the identity behind the socket.
        ws.close(CloseCode.jwtExpired, "jwt_expired");
        return;
      }
      await this.handleFrame(ws, state, raw);
    } catch (error) {
      console.error("booking room: frame failed", error);
      sendFrame(ws, encode("chat-error", { code: "internal_error", message: "Something went wrong" }));
    }
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
    } catch {
      // Already closed: nothing to do.
    }
  }

  override async webSocketError(_ws: WebSocket, error: unknown): Promise<void> {
    console.warn("booking room: socket error", error instanceof Error ? error.message : error);
  }

  // ---- D1 outbox ----

  override async alarm(): Promise<void> {
    this.flushScheduled = false;
    const outbox = this.outbox();
    if (!outbox) return;
    try {
      let result = await outbox.flush();
      while (result.more && result.written > 0) result = await outbox.flush();
      this.ctx.storage.sql.exec("UPDATE outbox_state SET failures = 0");
      if (result.more) await this.ctx.storage.setAlarm(Date.now() + FLUSH_DELAY_MS);
    } catch (error) {
      // Never throw: the runtime's own alarm retries give up after a few tries, and a message
      // must reach D1 however long it is down. Keep it and try again later.
      const failures = this.ctx.storage.sql
        .exec<{ failures: number }>(
          "UPDATE outbox_state SET failures = failures + 1, last_error_at = ? RETURNING failures",
          new Date().toISOString(),
        )
        .one().failures;
      console.error(`booking room: D1 write failed (attempt ${failures})`, error);
      await this.ctx.storage.setAlarm(Date.now() + backoffMs(failures));
    }
  }

  // ---- internals ----

  private lifecycle(): Lifecycle {
    return new Lifecycle(this.bookings, getConfig(this.env).chatTokenSecret);
  }

  private messages(): MessageStore | null {
    if (this.messageStore) return this.messageStore;
    const booking = this.bookings.get();
    if (!booking) return null;
    this.messageStore = new MessageStore(this.ctx.storage.sql, booking.id);
    return this.messageStore;
  }

  private outbox(): D1Outbox | null {
    const messages = this.messages();
    return messages ? new D1Outbox(this.env.DB, this.bookings, messages) : null;
  }

  private async apply<T, R>(run: () => Transition<T>, present: (value: T) => R): Promise<RoomResult<R>> {
    const result = this.ctx.storage.transactionSync(run);
    if (!result.ok) return result;
    this.deliver(result.value.notices);
    await this.scheduleFlush();
    return ok(present(result.value.value));
  }

  private async handleFrame(ws: WebSocket, state: SocketState, raw: string | ArrayBuffer): Promise<void> {
    const frame = parseClientFrame(raw);
    if (frame instanceof ChatError) return this.sendError(ws, frame);
    const booking = this.bookings.get();

    if (frame.event === "join-booking") {
      const joined = join(booking, state, frame.data, this.messages());
      if (joined instanceof ChatError) return this.sendError(ws, joined, frame.data.bookingId);
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
      return;
    }

    const sent = this.ctx.storage.transactionSync(() => send(booking, state, frame.data, this.messages()));
    if (sent instanceof ChatError) return this.sendError(ws, sent, frame.data.bookingId);
    const payload = encode("booking-chat", sent.message);
    if (sent.duplicate) {
      sendFrame(ws, payload);
      return;
    }
    for (const socket of this.ctx.getWebSockets()) {
      if (readState(socket)?.joined) sendFrame(socket, payload);
    }
    await this.scheduleFlush();
  }

  private sendError(ws: WebSocket, error: ChatError, bookingId?: string): void {
    sendFrame(
      ws,
      encode("chat-error", {
        code: error.code,
        message: error.message,
        ...(bookingId ? { bookingId } : {}),
        ...(error.clientMessageId ? { clientMessageId: error.clientMessageId } : {}),
      }),
    );
  }

  /** Sends lifecycle events to the sockets of the users they concern, tokens only to their holders. */
  private deliver(notices: Notice[]): void {
    if (notices.length === 0) return;
    const booking = this.bookings.get();
    if (!booking) return;
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
        for (const ws of this.ctx.getWebSockets(userTag(userId))) {
          if (readState(ws)?.role === audience) sockets.add(ws);
        }
        continue;
      }
      for (const ws of this.ctx.getWebSockets()) {
        if (audience === "everyone" || readState(ws)?.role === "admin") sockets.add(ws);
      }
    }
    return sockets;
  }

  private async scheduleFlush(): Promise<void> {
    if (this.flushScheduled || !this.outbox()?.hasPending()) return;
    this.flushScheduled = true;
    if ((await this.ctx.storage.getAlarm()) === null) {
      await this.ctx.storage.setAlarm(Date.now() + FLUSH_DELAY_MS);
    }
  }
}
