import type { Identity } from "../auth/jwt";
import { getConfig } from "../config";
import { errorResponse, fail, ok, type RoomResult } from "../errors";
import {
  type AcceptResponse,
  type Booking,
  type BookingAction,
  type BookingChange,
  type ChatSummary,
  type ChatTokenResponse,
  type ClientEvent,
  type CreateBookingBody,
  clientEventData,
  type HistoryQuery,
  type HistoryResponse,
} from "../protocol";
import type { RemoteClient, RemoteReply } from "../socket-io/remote";
import { ChatError, chatErrorPayload, type FrameOf } from "../sockets/frames";
import { SocketObject } from "../sockets/socket-object";
import { encode, type SocketState } from "../sockets/socket-state";
import { type BookingRecord, holdsChatToken, partyOf, toPublicBooking } from "./booking-store";
import { type Actor, Lifecycle, type Transition } from "./lifecycle";
import { messageFor, summaryFor } from "./present";
import { RoomSockets } from "./room-sockets";
import { RoomState } from "./room-state";

/**
 * One booking's chat: the authority on its lifecycle, its chat tokens and its messages.
 * Everything that changes state runs synchronously within one event, so requests to the same
 * booking are serialized by the runtime and never race.
 */
export class BookingRoom extends SocketObject<typeof clientEventData> {
  protected readonly label = "booking room";
  protected readonly clientEvents = clientEventData;
  private readonly state: RoomState;
  private readonly sockets: RoomSockets;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const config = getConfig(env);
    this.state = new RoomState(ctx, env, config.adminFeedShards);
    this.sockets = new RoomSockets(ctx, this.state, () => getConfig(this.env).limits, env.DB);
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
    const steps: Record<typeof action, [BookingChange, () => Transition<BookingRecord>]> = {
      decline: ["declined", () => lifecycle.decline(identity)],
      start: ["started", () => lifecycle.start(identity)],
      complete: ["completed", () => lifecycle.complete(identity)],
      cancel: ["cancelled", () => lifecycle.cancel(identity)],
    };
    const [change, run] = steps[action];
    return this.apply(change, run, toPublicBooking);
  }

  async view(identity: Identity): Promise<RoomResult<Booking>> {
    const booking = this.state.booking();
    if (!booking) return fail(404, "booking_not_found", "Booking not found");
    if (identity.role !== "admin" && partyOf(booking, identity) === null) {
      return fail(403, "forbidden", "You are not a participant of this booking");
    }
    return ok(toPublicBooking(booking));
  }

  async chatToken(identity: Identity): Promise<RoomResult<ChatTokenResponse>> {
    const booking = this.state.booking();
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
    const booking = this.state.booking();
    if (!booking) return fail(404, "booking_not_found", "Booking not found");
    const party = partyOf(booking, identity);
    if (identity.role !== "admin") {
      if (party === null) return fail(403, "forbidden", "You are not a participant of this booking");
      if (!holdsChatToken(booking, identity, chatToken ?? undefined)) {
        return fail(403, "invalid_token", "Invalid chat token");
      }
    }
    const view = this.state.followers();
    const page = view.log.page(query.limit, { before: query.before, after: query.after });
    return ok({
      bookingId: booking.id,
      chatActive: booking.chatActive,
      chatTerminatedAt: booking.chatTerminatedAt,
      messages: page.messages.map((m) => messageFor(view, party ?? "admin", m)),
      nextBefore: page.nextBefore,
    });
  }

  /** A party's `GET /chat/my-chats` row (as JSON), derived now from the log and the read cursors. */
  async summary(identity: Identity): Promise<{ lastActivityAt: string; json: string } | null> {
    const booking = this.state.booking();
    const party = booking ? partyOf(booking, identity) : null;
    if (!party) return null;
    const summary: ChatSummary = summaryFor(this.state.followers(), party);
    return { lastActivityAt: summary.lastActivityAt, json: JSON.stringify(summary) };
  }

  /**
   * A Socket.IO connection's `join-booking`, `booking-chat` or `mark-read` (src/socket-io/hub.ts):
   * the same checks, storage, ordering and errors as a socket here. A connection that joins makes its
   * hub a listener, sent every message of this booking from then on.
   */
  async remote(client: RemoteClient, frame: ClientEvent): Promise<RemoteReply> {
    const state: SocketState = {
      v: 1,
      id: client.connectionId,
      userId: client.userId,
      role: client.role,
      // The hub lets a send through only from a connection that joined this booking.
      joined: frame.event !== "join-booking",
      jwtExpiresAt: client.jwtExpiresAt,
    };
    const ownId = frame.data.bookingId === this.state.booking()?.id ? frame.data.bookingId : undefined;
    const refuse = (error: ChatError): RemoteReply => ({
      emits: [{ event: "chat-error", data: JSON.stringify(chatErrorPayload(error, ownId)) }],
      ack: JSON.stringify({ error: { code: error.code, message: error.message } }),
    });
    if (frame.event === "join-booking") {
      const joined = await this.sockets.join(state, frame.data);
      if (joined instanceof ChatError) return refuse(joined);
      if (this.state.listeners.add(client.hub)) {
        this.state.conversation.refreshConsumers();
      }
      const replay = joined.replayJson.map((data) => ({ event: "booking-chat", data }));
      return {
        emits: [{ event: "booking-joined", data: joined.joinedJson }, ...replay],
        ack: joined.joinedJson,
        joinedAtSeq: joined.lastSeq,
      };
    }
    if (frame.event === "mark-read") {
      const read = await this.sockets.markRead(state, frame.data);
      return read instanceof ChatError ? refuse(read) : { emits: [], ack: "null" };
    }
    const sent = await this.sockets.send(state, frame.data);
    if (sent instanceof ChatError) return refuse(sent);
    // A new message reaches this connection through its hub, as everyone joined; a resend only here.
    const emits = sent.duplicate ? [{ event: "booking-chat", data: sent.messageJson }] : [];
    return { emits, ack: sent.messageJson };
  }

  // ---- sockets and the alarm (SocketObject hooks) ----

  protected override onBeforeConnect(identity: Identity): Response | null {
    const booking = this.state.booking();
    if (!booking) return errorResponse(404, "booking_not_found", "Booking not found");
    if (identity.role !== "admin" && partyOf(booking, identity) === null) {
      return errorResponse(403, "forbidden", "You are not a participant of this booking");
    }
    return null;
  }

  protected override onMessage(
    ws: WebSocket,
    state: SocketState,
    frame: FrameOf<typeof clientEventData>,
  ): Promise<void> {
    return this.sockets.handle(ws, state, frame);
  }

  protected override async onAlarm(): Promise<void> {
    if (this.state.storage.exists()) await this.state.conversation.alarm();
  }

  // ---- internals ----

  private lifecycle(): Lifecycle {
    return new Lifecycle(this.state.bookings, getConfig(this.env).chatTokenSecret);
  }

  /**
   * Runs a lifecycle step in one transaction with the event it records, tells the sockets, and
   * delivers to inboxes and the admin feed before answering (their HTTP caller waits for them).
   */
  private async apply<T, R>(
    change: BookingChange,
    run: () => Transition<T>,
    respond: (value: T) => R,
  ): Promise<RoomResult<R>> {
    const { state } = this;
    const result = state.transaction(() => {
      const creating = !state.storage.exists();
      const versionBefore = state.booking()?.version ?? 0;
      const outcome = run();
      const booking = state.booking();
      if (!outcome.ok || !booking) return outcome;
      if (creating && state.storage.exists()) {
        state.reads.create();
        state.conversation.created();
      }
      // Idempotent repeats (a second payment, a second accept) change nothing and announce nothing.
      if (booking.version === versionBefore) return outcome;
      state.events.append({
        atSeq: state.conversation.log.lastSeq(),
        action: change,
        notices: outcome.value.notices.map((n) => ({ to: n.to, frame: JSON.stringify(n.event) })),
        feedFrame: encode("booking-updated", { action: change, booking: toPublicBooking(booking) }),
      });
      return outcome;
    });
    if (!result.ok) return result;
    this.sockets.announce(result.value.notices);
    await state.conversation.afterWrite({ urgent: true });
    return ok(respond(result.value.value));
  }
}
