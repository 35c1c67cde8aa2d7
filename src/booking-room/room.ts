import { z } from "zod";
import type { Identity } from "../auth/jwt";
import { getConfig } from "../config";
import { database } from "../db/client";
import { refusedByD1 } from "../db/retry-copy";
import { messages as d1Messages } from "../db/schema";
import { d1Shard, recordedShard, recordShard } from "../db/shards";
import { FeedConsumer } from "../delivery/feed-consumer";
import type { InboxWants } from "../delivery/items";
import { inboxName, sioHubStub } from "../delivery/targets";
import { errorResponse, fail, ok, type Result, refusal } from "../errors";
import { type JsonText, jsonText } from "../json-response";
import { describeError } from "../log";
import {
  type AcceptResponse,
  type AttachmentRef,
  type Booking,
  type BookingAction,
  type BookingChange,
  type ChatSummary,
  type ChatTokenResponse,
  type ClientEvent,
  type CreateBookingBody,
  clientEventData,
  type ExportLine,
  type HideResponse,
  type HistoryQuery,
  type HistoryResponse,
  type PartyRole,
  UserRole,
} from "../protocol";
import { toNdjson } from "../retention/archive-format";
import type { Attachment, StateCodec } from "../sockets/attachment";
import type { CommandOf, Outcome, OutEvent } from "../sockets/command";
import { encode } from "../sockets/encode";
import { nativeTransport } from "../sockets/native";
import { type Connection, SocketServer } from "../sockets/server";
import { attachmentRef, UNUSED_ATTACHMENT_TTL_MS } from "./attachment-store";
import type { Audience } from "./audience";
import { type BookingRecord, holdsChatToken, partyId, partyOf, toPublicBooking } from "./booking-store";
import { ChatCommands, type LiveAudience, type RoomReach } from "./commands";
import { bookingMessageRow, mirrorBooking } from "./consumers";
import { type Actor, Lifecycle, type Transition } from "./lifecycle";
import type { Caller } from "./policy";
import { Presence } from "./presence";
import { liveMessageJson, messageFor, presentMessage, seenAlike, summaryFor } from "./present";
import type { Reader } from "./read-state";
import { RoomState } from "./room-state";

/** What the room keeps about each of its own sockets: whether it joined the booking. */
type RoomSocket = { joined: boolean };

const ROOM_SOCKET: StateCodec<RoomSocket> = {
  schema: z.object({ joined: z.boolean() }),
  // Sockets opened before attachments had a version 2 carried their identity flat.
  upgrade: (raw) => {
    const v1 = z
      .object({
        v: z.literal(1),
        id: z.string(),
        userId: z.string(),
        role: UserRole,
        joined: z.boolean(),
        jwtExpiresAt: z.number(),
      })
      .safeParse(raw);
    if (!v1.success) return null;
    const { id, userId, role, joined, jwtExpiresAt } = v1.data;
    return {
      v: 2,
      id,
      openedAt: 0,
      peer: { userId, role, jwtExpiresAt },
      state: { joined },
    } satisfies Attachment<RoomSocket>;
  },
};

/**
 * One booking's chat: the authority on its lifecycle, its chat tokens and its messages.
 * Everything that changes state runs synchronously within one event, so requests to the same
 * booking are serialized by the runtime and never race. Its own sockets and the Socket.IO
 * connections that hubs forward go through the same commands (commands.ts).
 */
/** A page of an export, as NDJSON lines (src/data-requests/export.ts). */
export type ExportPage = { ndjson: string; messages: number; nextAfter: number | null };

export class BookingRoom extends SocketServer<RoomSocket, typeof clientEventData> {
  protected readonly label = "booking room";
  protected readonly commands = clientEventData;
  private readonly state: RoomState;
  private readonly chat: ChatCommands;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env, nativeTransport);
    const config = getConfig(env);
    this.state = new RoomState(ctx, env, config.adminFeedShards);
    this.state.connectedHere = (who) => this.connectionsOf(who).length > 0;
    const presence = new Presence(
      () => this.state.listeners.hubs(),
      (hub) => sioHubStub(this.env, hub).joinedTo(this.state.booking()?.id ?? ""),
    );
    this.chat = new ChatCommands(this.state, () => getConfig(this.env), env.DB, this.reach(), presence);
  }

  // ---- HTTP-facing RPC, called by the Worker's routes ----

  async create(bookingId: string, identity: Identity, body: CreateBookingBody): Promise<Result<Booking>> {
    return this.apply("created", () => this.lifecycle().create(bookingId, identity, body), toPublicBooking);
  }

  async confirmPayment(actor: Actor, paymentReference: string | null): Promise<Result<Booking>> {
    return this.apply(
      "paid",
      () => this.lifecycle().confirmPayment(actor, paymentReference),
      toPublicBooking,
    );
  }

  async accept(identity: Identity): Promise<Result<AcceptResponse>> {
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

  async transition(action: Exclude<BookingAction, "accept">, identity: Identity): Promise<Result<Booking>> {
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

  /** An admin freezes the chat (sends refused until unfrozen) or unfreezes it. */
  async freeze(identity: Identity, frozen: boolean): Promise<Result<Booking>> {
    return this.apply(
      frozen ? "frozen" : "unfrozen",
      () => this.lifecycle().freeze(identity, frozen),
      toPublicBooking,
    );
  }

  async view(identity: Identity): Promise<Result<Booking>> {
    const booking = this.state.booking();
    if (!booking) return fail("booking_not_found", "Booking not found");
    if (identity.role !== "admin" && partyOf(booking, identity) === null) {
      return fail("forbidden", "You are not a participant of this booking");
    }
    return ok(toPublicBooking(booking));
  }

  async chatToken(identity: Identity): Promise<Result<ChatTokenResponse>> {
    const booking = this.state.booking();
    if (!booking) return fail("booking_not_found", "Booking not found");
    const party = partyOf(booking, identity);
    if (party === null) return fail("forbidden", "Only the booking's customer and provider hold chat tokens");
    const chatToken = party === "customer" ? booking.customerChatToken : booking.providerChatToken;
    if (!chatToken) {
      const why = party === "customer" ? "payment is confirmed" : "you accept the booking";
      return fail("token_not_issued", `Your chat token is issued once ${why}`);
    }
    return ok({ bookingId: booking.id, role: party, chatToken, chatActive: booking.chatActive });
  }

  async history(
    identity: Identity,
    chatToken: string | null,
    query: HistoryQuery,
  ): Promise<Result<JsonText<HistoryResponse>>> {
    const access = this.access(identity, chatToken, NOT_A_PARTY, true);
    if (!access.ok) return access;
    const { booking, party } = access.value;
    const view = this.state.followers();
    const page = view.log.page(query.limit, { before: query.before, after: query.after });
    return ok(
      jsonText<HistoryResponse>({
        bookingId: booking.id,
        chatActive: booking.chatActive,
        chatTerminatedAt: booking.chatTerminatedAt,
        messages: page.messages.map((m) => messageFor(view, party ?? "admin", m)),
        nextBefore: page.nextBefore,
      }),
    );
  }

  // ---- attachments and moderation, called by the Worker's routes ----

  /** Whether `identity` may upload a file now: a party with its own token, the chat open and not frozen. */
  async mayUpload(identity: Identity, chatToken: string | null): Promise<Result<{ party: PartyRole }>> {
    const access = this.access(
      identity,
      chatToken,
      "Only the booking's customer and provider can send files",
    );
    if (!access.ok) return access;
    const { booking, party } = access.value;
    if (party === null) return fail("forbidden", "Only the booking's customer and provider can send files");
    if (booking.chatTerminatedAt !== null)
      return fail("chat_terminated", "Chat has been terminated for this booking");
    if (!booking.chatActive) return fail("chat_not_active", "Chat is not active yet");
    if (booking.chatFrozenAt !== null) return fail("chat_frozen", "An admin has paused this chat");
    return ok({ party });
  }

  /**
   * A file is in R2 (at `upload.r2Key`): it becomes the uploader's, for one of their messages, if
   * they may still upload (the chat may have closed meanwhile; then the route deletes the bytes).
   */
  async attachmentUploaded(
    identity: Identity,
    chatToken: string | null,
    upload: AttachmentRef & { r2Key: string },
  ): Promise<Result<AttachmentRef>> {
    const allowed = await this.mayUpload(identity, chatToken);
    if (!allowed.ok) return allowed;
    const createdAt = Date.now();
    this.state.attachments.add({
      ...upload,
      uploaderId: identity.userId,
      uploaderRole: allowed.value.party,
      createdAt,
    });
    // Woken when the D1 copy of the message that will likely use it is due, which then needs no
    // alarm of its own; that alarm sets the hour's one only if the upload is still unused.
    const copyDue = createdAt + getConfig(this.env).d1Copy.intervalMs;
    await this.state.conversation.wakeBy(Math.min(createdAt + UNUSED_ATTACHMENT_TTL_MS, copyDue));
    return ok(attachmentRef(upload));
  }

  /**
   * Where a file of this booking is, for someone who may see it: admins any; a party (with its
   * token, also after the chat closed) one in a message they can see, or their own unused upload.
   */
  async attachment(
    identity: Identity,
    chatToken: string | null,
    id: string,
  ): Promise<Result<AttachmentRef & { r2Key: string }>> {
    const access = this.access(identity, chatToken, NOT_A_PARTY, true);
    if (!access.ok) return access;
    const { party } = access.value;
    const row = this.state.attachments.get(id);
    const notFound = fail("not_found", "No such attachment in this booking");
    if (!row) return notFound;
    if (party !== null) {
      const message = row.usedSeq === null ? null : this.state.conversation.log.get(row.usedSeq);
      const own = row.usedSeq === null && row.uploaderId === identity.userId && row.uploaderRole === party;
      if (!own && (!message || message.hiddenAt !== null)) return notFound;
    }
    return ok({ ...attachmentRef(row), r2Key: row.r2Key });
  }

  /**
   * An admin hides message `seq`: parties hear `message-hidden` and from now on see only its
   * place; admins still see it. Hiding it again changes nothing. Answers it as admins see it.
   */
  async hide(identity: Identity, seq: number): Promise<Result<JsonText<HideResponse>>> {
    if (identity.role !== "admin") return fail("forbidden", "Only admins can hide messages");
    const booking = this.state.booking();
    if (!booking) return fail("booking_not_found", "Booking not found");
    const log = this.state.conversation.log;
    const hiddenEvent = { event: "message-hidden" as const, data: { bookingId: booking.id, seq } };
    const to: Audience[] = ["customer", "provider", "admins"];
    const result = this.state.transaction(() => {
      const existing = log.get(seq);
      if (!existing) return null;
      const hidden = log.hide(seq, new Date().toISOString());
      if (hidden) {
        this.state.events.append({
          atSeq: log.lastSeq(),
          action: "message-hidden",
          notices: [{ to, frame: JSON.stringify(hiddenEvent) }],
          feedFrame: encode(hiddenEvent.event, hiddenEvent.data),
        });
      }
      return { message: hidden ?? existing, fresh: hidden !== null };
    });
    if (!result) return fail("not_found", "No such message in this booking");
    if (result.fresh) {
      this.announce([{ to, event: hiddenEvent.event, data: JSON.stringify(hiddenEvent.data) }]);
      await this.state.conversation.afterWrite({ urgent: true });
    }
    return ok(
      jsonText<HideResponse>({ message: presentMessage(booking.id, result.message, false, "admin") }),
    );
  }

  /** Whether `identity` may report message `seq`: a party with its token, about the other party's message. */
  async reportable(
    identity: Identity,
    chatToken: string | null,
    seq: number,
  ): Promise<Result<{ senderId: string; d1Shard: number }>> {
    const notParty = "Only the booking's customer and provider can report messages";
    const access = this.access(identity, chatToken, notParty);
    if (!access.ok) return access;
    const { party } = access.value;
    if (party === null) return fail("forbidden", notParty);
    const message = this.state.conversation.log.get(seq);
    if (!message) return fail("not_found", "No such message in this booking");
    if (message.senderRole === party) return fail("invalid_request", "You cannot report your own message");
    return ok({ senderId: message.senderId, d1Shard: recordedShard(this.ctx.storage.kv) });
  }

  /** A party's `GET /chat/my-chats` row (as JSON), derived now from the log and the read cursors. */
  async summary(identity: Identity): Promise<{ lastActivityAt: string; json: string } | null> {
    const booking = this.state.booking();
    const party = booking ? partyOf(booking, identity) : null;
    if (!party) return null;
    const summary: ChatSummary = summaryFor(this.state.followers(), party);
    return { lastActivityAt: summary.lastActivityAt, json: JSON.stringify(summary) };
  }

  // ---- operations ----

  /**
   * Copies to D1 again what its copy set aside as a dead letter (`seq N`: a message; `event N`: the
   * booking row), once an admin has fixed why D1 refused it. Idempotent, as every copy is.
   */
  async retryD1Copy(position: string): Promise<Result<null>> {
    const booking = this.state.booking();
    if (!booking) return fail("not_found", "No such booking");
    const db = database(d1Shard(this.env, recordedShard(this.ctx.storage.kv)));
    const seq = /^seq (\d+)$/.exec(position)?.[1];
    const message = seq === undefined ? null : this.state.conversation.log.get(Number(seq));
    if (message) {
      return refusedByD1(() =>
        db.insert(d1Messages).values(bookingMessageRow(booking.id, message)).onConflictDoNothing(),
      );
    }
    if (/^event \d+$/.test(position)) return refusedByD1(() => mirrorBooking(db, booking));
    return fail("not_found", `Nothing at ${position} in this booking`);
  }

  // ---- data requests: export and erasure (src/data-requests/) ----

  /**
   * One page of what `userId` takes away from this booking as a party (GDPR export), as NDJSON
   * lines: the booking (on the first page), up to `limit` messages after `afterSeq` as they read
   * them, and their read position (on the last). Null when they are not a party.
   */
  async exportPage(userId: string, afterSeq: number, limit: number): Promise<ExportPage | null> {
    const booking = this.state.booking();
    if (!booking) return null;
    const party: PartyRole | null =
      booking.customerId === userId ? "customer" : booking.providerId === userId ? "provider" : null;
    if (!party) return null;
    const view = this.state.followers();
    const messages = view.log.after(afterSeq, limit);
    const last = messages.at(-1);
    const nextAfter = last && last.seq < view.log.lastSeq() ? last.seq : null;
    const lines: ExportLine[] = [
      ...(afterSeq === 0 ? [{ type: "booking" as const, party, booking: toPublicBooking(booking) }] : []),
      ...messages.map((m) => ({ type: "message" as const, message: messageFor(view, party, m) })),
      ...(nextAfter === null
        ? [{ type: "read" as const, bookingId: booking.id, party, seq: view.reads.cursors()[party] }]
        : []),
    ];
    return { ndjson: toNdjson(lines), messages: messages.length, nextAfter };
  }

  /**
   * Erases what `userId` wrote here (GDPR erasure): their messages keep their place and lose their
   * content, metadata and files; the files they uploaded leave R2; a customer's booking notes go.
   * Repeating it erases nothing twice.
   */
  async eraseAuthor(userId: string): Promise<{ messages: number; files: number }> {
    const booking = this.state.booking();
    if (!booking) return { messages: 0, files: 0 };
    const uploads = this.state.attachments.byUploader(userId);
    // The bytes first: a row is only dropped once its object is gone, so a retry finds the rest.
    if (uploads.length > 0) await this.env.ATTACHMENTS.delete(uploads.map((row) => row.r2Key));
    const messages = this.state.transaction(() => {
      this.state.attachments.delete(uploads.map((row) => row.id));
      if (booking.customerId === userId && booking.notes !== null)
        this.state.bookings.update({ notes: null });
      return this.state.conversation.log.eraseAuthor(userId, new Date().toISOString());
    });
    return { messages, files: uploads.length };
  }

  // ---- RPC for inboxes and the admin feed ----

  /**
   * A party's inbox says (at its clock `at`) what it wants besides lifecycle changes: its first
   * socket opened. Only the booking's own parties are heard; a wrong caller changes nothing.
   */
  async inboxWants(who: { userId: string; role: PartyRole }, wants: InboxWants, at: number): Promise<void> {
    const booking = this.state.booking();
    if (!booking || partyOf(booking, who) !== who.role) return;
    this.state.gates.setInbox(inboxName(who), wants, this.state.conversation.log.lastSeq(), at);
    // Read marks it did not take meanwhile: the newest one now.
    if (wants.reads) await this.state.conversation.kick(inboxName(who));
  }

  /** This booking's admin feed shard says (at its clock `at`) that an admin watches it again. */
  async feedWatched(at: number): Promise<void> {
    if (!this.state.storage.exists()) return;
    const feed = this.state.conversation.find((c) => c instanceof FeedConsumer);
    if (feed instanceof FeedConsumer) feed.watched(at);
  }

  // ---- RPC for Socket.IO hubs: their connections' commands go through the same path ----

  /** A command from a connection a hub holds (src/socket-io/hub.ts); the hub renders the outcome. */
  async execute(caller: Caller, command: ClientEvent): Promise<Outcome> {
    return this.chat.run(caller, command);
  }

  /** A hub's connection that joined here has gone. */
  async leave(connectionId: string): Promise<void> {
    this.chat.presence.leftRemotely(connectionId);
    this.chat.forget(connectionId);
    await this.chat.left();
  }

  // ---- sockets and the alarm (SocketServer hooks) ----

  protected stateCodec(): StateCodec<RoomSocket> {
    return ROOM_SOCKET;
  }

  protected initialState(): RoomSocket {
    return { joined: false };
  }

  protected override admit(_request: Request, identity: Identity | null): Response | null {
    const booking = this.state.booking();
    if (!booking) return errorResponse(refusal("booking_not_found", "Booking not found"));
    if (identity && identity.role !== "admin" && partyOf(booking, identity) === null) {
      return errorResponse(refusal("forbidden", "You are not a participant of this booking"));
    }
    return null;
  }

  protected async onCommand(
    connection: Connection<RoomSocket>,
    command: CommandOf<typeof clientEventData>,
  ): Promise<Outcome> {
    const peer = connection.peer;
    if (!peer) return { reply: [], ack: "null" };
    const caller: Caller = { connectionId: connection.id, ...peer, joined: connection.state.joined };
    const outcome = await this.chat.run(caller, command);
    if (outcome.joined && !this.current(connection).state.joined)
      this.update(connection, { state: { joined: true } });
    return outcome;
  }

  protected override async onClose(connection: Connection<RoomSocket>): Promise<void> {
    if (connection.state.joined && this.state.booking()) await this.chat.left(connection.id);
  }

  protected override async onAlarm(): Promise<void> {
    if (!this.state.storage.exists()) return;
    await this.state.conversation.alarm();
    await this.expireUploads();
  }

  /** Deletes uploads no message used within the hour, and wakes for the next one due. */
  private async expireUploads(): Promise<void> {
    const store = this.state.attachments;
    const expired = store.expired(Date.now() - UNUSED_ATTACHMENT_TTL_MS);
    // The rows go first, in the same event as the look: a message cannot claim one meanwhile.
    store.deleteUnused(expired.map((row) => row.id));
    if (expired.length > 0) {
      try {
        await this.env.ATTACHMENTS.delete(expired.map((row) => row.r2Key));
      } catch (error) {
        console.error("attachments: could not delete expired uploads", describeError(error));
        for (const row of expired) store.add(row);
      }
    }
    const next = store.nextExpiry();
    if (next !== null) await this.state.conversation.wakeBy(Math.max(next, Date.now() + 1_000));
  }

  // ---- internals ----

  /**
   * Who reads this booking over HTTP: a party presenting its own chat token (`party` set), or with
   * `admins`, an admin with none (`party` null); anyone else is refused with `notParty`.
   */
  private access(
    identity: Identity,
    chatToken: string | null,
    notParty: string,
    admins = false,
  ): Result<{ booking: BookingRecord; party: PartyRole | null }> {
    const booking = this.state.booking();
    if (!booking) return fail("booking_not_found", "Booking not found");
    const party = partyOf(booking, identity);
    if (party === null) {
      return admins && identity.role === "admin" ? ok({ booking, party }) : fail("forbidden", notParty);
    }
    if (!holdsChatToken(booking, identity, chatToken ?? undefined))
      return fail("invalid_token", "Invalid chat token");
    return ok({ booking, party });
  }

  private lifecycle(): Lifecycle {
    return new Lifecycle(this.state.bookings, getConfig(this.env).chatTokenSecret);
  }

  /** How the chat commands reach this room's sockets and the hubs that hold its other connections. */
  private reach(): RoomReach {
    const joined = (c: Connection<RoomSocket>) => c.state.joined;
    return {
      joinedHere: (except) =>
        this.connections((c) => joined(c) && c.id !== except).flatMap((c) => (c.peer ? [c.peer] : [])),
      broadcastMessage: (message) => {
        const booking = this.state.booking();
        if (!booking) return;
        if (seenAlike(message)) {
          this.broadcast("booking-chat", liveMessageJson(booking.id, message), joined);
          return;
        }
        // Masked: the other party reads its own version of it.
        for (const reader of ["admin", "customer", "provider"] as const) {
          const json = liveMessageJson(booking.id, message, reader);
          this.broadcast("booking-chat", json, (c) => joined(c) && readerOf(c, booking) === reader);
        }
      },
      sendToParty: (party, event) => {
        const booking = this.state.booking();
        if (booking)
          for (const c of this.connectionsOf({ userId: partyId(booking, party), role: party }))
            this.send(c, event.event, event.data);
      },
      publishLive: (event, audience) => this.publishLive(event, audience),
    };
  }

  /** A live event: to the joined sockets here that `audience` names, and to every hub, best-effort. */
  private publishLive(event: OutEvent, audience: LiveAudience): void {
    const booking = this.state.booking();
    if (!booking) return;
    this.broadcast(event.event, event.data, (c) => c.state.joined && isAudience(c, audience));
    for (const hub of this.state.listeners.hubs()) {
      // Not awaited, never retried: a hub that is slow or gone delays nobody and misses only this.
      sioHubStub(this.env, hub)
        .live(booking.id, event, audience)
        .catch((error) => console.warn("live: a hub did not take an event", describeError(error)));
    }
  }

  /**
   * Runs a lifecycle step in one transaction with the event it records, tells the sockets, and
   * delivers to inboxes and the admin feed before answering (their HTTP caller waits for them).
   */
  private async apply<T, R>(
    change: BookingChange,
    run: () => Transition<T>,
    respond: (value: T) => R,
  ): Promise<Result<R>> {
    const { state } = this;
    const result = state.transaction(() => {
      const creating = !state.storage.exists();
      const versionBefore = state.booking()?.version ?? 0;
      const outcome = run();
      const booking = state.booking();
      if (!outcome.ok || !booking) return outcome;
      if (creating && state.storage.exists()) {
        recordShard(this.ctx.storage.kv, this.env, booking.id);
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
    this.announce(
      result.value.notices.map((n) => ({
        to: n.to,
        event: n.event.event,
        data: JSON.stringify(n.event.data),
      })),
    );
    await state.conversation.afterWrite({ urgent: true });
    return ok(respond(result.value.value));
  }

  /** Sends lifecycle events to the sockets here of the users they concern; tokens only to their holders. */
  private announce(notices: { to: Audience[]; event: OutEvent["event"]; data: string }[]): void {
    const booking = this.state.booking();
    if (!booking) return;
    for (const notice of notices) {
      this.broadcast(notice.event, notice.data, (c) => reachesSocket(notice.to, c, booking));
    }
  }
}

const NOT_A_PARTY = "You are not a participant of this booking";

/** Whether a socket here is among a notice's audience: its party (by user and role), or any admin. */
function reachesSocket(to: Audience[], c: Connection<RoomSocket>, booking: BookingRecord): boolean {
  if (!c.peer) return false;
  if (to.includes("everyone")) return true;
  if (c.peer.role === "admin") return to.includes("admins");
  const party = partyOf(booking, c.peer);
  return party !== null && to.includes(party);
}

function readerOf(c: Connection<RoomSocket>, booking: BookingRecord): Reader | null {
  if (!c.peer) return null;
  return c.peer.role === "admin" ? "admin" : partyOf(booking, c.peer);
}

function isAudience(c: Connection<RoomSocket>, audience: LiveAudience): boolean {
  if (!c.peer) return false;
  if (c.peer.role === "admin") return audience.admins;
  const peer = c.peer;
  return audience.users.some((u) => u.userId === peer.userId && u.role === peer.role);
}
