import type { z } from "zod";
import type { Config } from "../config";
import { contentError } from "../conversation/content";
import type { StoredMessage } from "../conversation/message-log";
import { recordAdminAccess } from "../db/admin-audit";
import { sioListenerName } from "../delivery/targets";
import { type Refusal, refusal } from "../errors";
import { applyContactPolicy } from "../moderation/contact-policy";
import type { BookingChatData, ClientEvent, JoinBookingData, MarkReadData, TypingData } from "../protocol";
import { REPLAY_LIMIT, TYPING_PER_SECOND } from "../protocol";
import { isRefusal, type Outcome, type OutEvent, refused, SILENT } from "../sockets/command";
import { RateLimiter } from "../sockets/rate-limiter";
import { partyOf } from "./booking-store";
import { authorize, authorizeParty, type Caller, VerifiedTokens } from "./policy";
import type { Joiner, Presence } from "./presence";
import { liveMessageJson, messageFor, presentMessage } from "./present";
import { otherParty } from "./read-state";
import { type RoomState, roomCounters } from "./room-state";

/** Who a live event is for among those joined to the booking: these users, and the admins watching. */
export type LiveAudience = { users: { userId: string; role: "customer" | "provider" }[]; admins: boolean };

/** What the chat commands need of the room's sockets and of the hubs that hold its other connections. */
export type RoomReach = {
  /** The room's own connections joined to the booking (but `except`, one that is closing). */
  joinedHere(except?: string): Joiner[];
  /** A new message, to every connection of the room's own that joined, as each reads it (hubs follow the log). */
  broadcastMessage(message: StoredMessage): void;
  /** A read receipt, to every connection of the room's own of that party. */
  sendToParty(party: "customer" | "provider", event: OutEvent): void;
  /** A live event (typing, presence) to the connections joined here and on every hub: lost if nobody listens. */
  publishLive(event: OutEvent, audience: LiveAudience): void;
};

type JoinData = z.infer<typeof JoinBookingData>;
type ChatData = z.infer<typeof BookingChatData>;
type ReadData = z.infer<typeof MarkReadData>;
type TypingFrame = z.infer<typeof TypingData>;

/**
 * The booking chat's client commands, whatever carried them: the room's own sockets and Socket.IO
 * connections (through their hub) run exactly this, checked by one policy (policy.ts), and get one
 * outcome back that their transport renders. A new command is a case here and a schema in the
 * protocol.
 */
export class ChatCommands {
  private readonly rateLimiter = new RateLimiter();
  /** Chat tokens proved per connection: checked at join, again only after the booking changed. */
  private readonly tokens = new VerifiedTokens();
  /** Whether each connection's last `typing` that went out said it was typing. */
  private readonly typingShown = new Map<string, boolean>();

  constructor(
    private readonly state: RoomState,
    private readonly config: () => Config,
    private readonly d1: D1Database,
    private readonly reach: RoomReach,
    readonly presence: Presence,
  ) {}

  async run(caller: Caller, command: ClientEvent): Promise<Outcome> {
    // Errors name the booking only when it is this one; another id is not echoed back.
    const ownId = command.data.bookingId === this.state.booking()?.id ? command.data.bookingId : undefined;
    const outcome = await this.dispatch(caller, command);
    return isRefusal(outcome) ? refused(outcome, ownId) : outcome;
  }

  /**
   * A joined connection has gone (closed, dropped without a close, or left its hub): tell the
   * others who is left. `closing`: the room's own socket that is closing.
   */
  async left(closing?: string): Promise<void> {
    if (closing) {
      this.tokens.forget(closing);
      this.typingShown.delete(closing);
    }
    await this.announcePresence([], closing);
  }

  /** A connection held elsewhere (a hub's) has gone: what it proved is forgotten. */
  forget(connectionId: string): void {
    this.tokens.forget(connectionId);
    this.typingShown.delete(connectionId);
  }

  private dispatch(caller: Caller, command: ClientEvent): Promise<Outcome | Refusal> | Outcome | Refusal {
    switch (command.event) {
      case "join-booking":
        return this.join(caller, command.data);
      case "booking-chat":
        return this.send(caller, command.data);
      case "mark-read":
        return this.markRead(caller, command.data);
      case "typing":
        return this.typing(caller, command.data);
    }
  }

  /**
   * `join-booking`: parties need their own valid token and an open chat; admins join any booking
   * to watch, on the record first. Answered with `booking-joined`, the presence, then at most
   * REPLAY_LIMIT replayed messages, oldest first, all in one event so no live message slips in.
   */
  private async join(caller: Caller, data: JoinData): Promise<Outcome | Refusal> {
    const limited = this.limit(caller, "join");
    if (limited) return limited;
    const booking = this.state.booking();
    const allowed = authorize("join-booking", caller, booking, data, this.tokens);
    if (isRefusal(allowed)) return allowed;
    if (!booking) return refusal("booking_not_found", "Booking not found");
    if (allowed.party !== null && booking.chatTerminatedAt !== null) return terminated();
    // An admin watching a conversation is on the record before seeing any of it.
    if (caller.role === "admin" && !(await this.audited(caller.userId, booking.id))) {
      return refusal("unavailable", "The audit trail cannot be written; try again");
    }
    const log = this.state.conversation.log;
    const lastSeq = log.lastSeq();
    const { sinceSeq } = data;
    const replayThrough = sinceSeq === undefined ? undefined : Math.min(lastSeq, sinceSeq + REPLAY_LIMIT);
    const joined = JSON.stringify({
      bookingId: booking.id,
      chatActive: booking.chatActive,
      role: caller.role,
      lastSeq,
      ...(replayThrough === undefined ? {} : { replayThrough }),
    });
    const view = this.state.followers();
    const reader = partyOf(view.booking, caller) ?? "admin";
    const replay: OutEvent[] =
      sinceSeq === undefined || replayThrough === undefined
        ? []
        : log
            .after(sinceSeq, replayThrough - sinceSeq)
            .map((m) => ({ event: "booking-chat", data: JSON.stringify(messageFor(view, reader, m)) }));
    // The joiner is not joined yet where it is held (its socket here, or its hub): count it in.
    const presence = await this.announcePresence([caller]);
    if (caller.hub !== undefined) {
      // The hub hears every message after this join, and what else is addressed to its connections.
      this.state.follow([caller.hub], { messages: lastSeq, events: this.state.events.lastId() });
      const { connectionId, userId, role } = caller;
      this.presence.joinedRemotely({ connectionId, userId, role }, caller.hub);
    }
    return {
      reply: [{ event: "booking-joined", data: joined }, presence, ...replay],
      ack: joined,
      joined: { bookingId: booking.id, lastSeq },
    };
  }

  /** `booking-chat`: every message is authorized on its own, then stored before anyone sees it. */
  private async send(caller: Caller, data: ChatData): Promise<Outcome | Refusal> {
    const extras = data.clientMessageId ? { clientMessageId: data.clientMessageId } : {};
    const limited = this.limit(caller, "send", data.clientMessageId);
    if (limited) return limited;
    const allowed = authorizeParty("booking-chat", caller, this.state.booking(), data, this.tokens);
    if (isRefusal(allowed)) return allowed;
    const { booking } = allowed;
    const log = this.state.conversation.log;
    // A resend of a stored message is answered with the stored copy, even after the chat closed,
    // so a client that lost the acknowledgement learns its message went through.
    const stored = data.clientMessageId ? log.findResend(caller.userId, data.clientMessageId) : null;
    if (stored) {
      const json = JSON.stringify(presentMessage(booking.id, stored, false, allowed.party));
      return { reply: [{ event: "booking-chat", data: json }], ack: json };
    }
    if (booking.chatTerminatedAt !== null) return { ...terminated(), ...extras };
    if (!booking.chatActive) return refusal("chat_not_active", "Chat is not active yet", extras);
    if (booking.chatFrozenAt !== null) return refusal("chat_frozen", FROZEN, extras);
    const config = this.config();
    const files = data.attachments ?? [];
    const invalid = contentError(
      data.message,
      data.metadata,
      config.limits.maxMessageChars,
      files.length > 0,
    );
    if (invalid) return refusal(invalid.code, invalid.message, extras);
    const guarded = applyContactPolicy(data.message, config.contactPolicy);
    const sender = { userId: caller.userId, role: allowed.party };
    const append = (): StoredMessage | Refusal => {
      const seq = log.lastSeq() + 1;
      const claimed = files.length > 0 ? this.state.attachments.claim(files, sender, seq) : null;
      if (isRefusal(claimed)) return claimed;
      return log.append(
        {
          senderId: caller.userId,
          senderRole: allowed.party,
          content: data.message,
          clientMessageId: data.clientMessageId ?? null,
          metadata: data.metadata ?? null,
          attachments: claimed,
          ...guarded,
        },
        new Date().toISOString(),
      );
    };
    // A message with files marks them used in the same transaction; one without writes one row.
    const appended = files.length > 0 ? this.state.transaction(append) : append();
    if (isRefusal(appended)) return { ...appended, ...extras };
    const message = appended;
    roomCounters.messages++;
    const json = liveMessageJson(booking.id, message);
    // Every joined socket here hears it now (the sender's included, as its acknowledgement);
    // Socket.IO hubs, inboxes, the admin feed and D1 follow the log by cursor. The sender's own
    // hub takes its share with the answer, which saves it a call.
    this.reach.broadcastMessage(message);
    const handed =
      caller.hub === undefined ? null : this.state.conversation.handOver(sioListenerName(caller.hub));
    await this.state.conversation.afterWrite();
    return handed ? { reply: [], ack: json, handed } : { reply: [], ack: json };
  }

  /** `mark-read`: a joined party moves its own read cursor; the other party hears `messages-read`. */
  private async markRead(caller: Caller, data: ReadData): Promise<Outcome | Refusal> {
    const allowed = authorizeParty("mark-read", caller, this.state.booking(), data);
    if (isRefusal(allowed)) return allowed;
    const { booking } = allowed;
    if (data.seq > this.state.conversation.log.lastSeq()) {
      return refusal("invalid_payload", "seq is beyond the last message of this booking");
    }
    if (!this.state.reads.advance(allowed.party, data.seq)) return SILENT;
    const receipt = JSON.stringify({ bookingId: booking.id, readerId: caller.userId, seq: data.seq });
    this.reach.sendToParty(otherParty(allowed.party), { event: "messages-read", data: receipt });
    await this.state.conversation.afterWrite();
    return SILENT;
  }

  /**
   * `typing`: live only, to the other party's joined connections and the admins watching, never
   * to the sender and never stored. Past TYPING_PER_SECOND a connection's are dropped unanswered.
   */
  private typing(caller: Caller, data: TypingFrame): Outcome | Refusal {
    // The stop that ends a start the other party was shown always goes: dropping it would leave
    // "typing…" on their screen until it lapses.
    const ends = !data.isTyping && this.typingShown.get(caller.connectionId) === true;
    if (!ends) {
      const rate = this.rateLimiter.take(
        `typing:${caller.connectionId}`,
        TYPING_PER_SECOND,
        TYPING_PER_SECOND,
      );
      if (!rate.ok) return SILENT;
    }
    const allowed = authorizeParty("typing", caller, this.state.booking(), data);
    if (isRefusal(allowed)) return allowed;
    this.typingShown.set(caller.connectionId, data.isTyping);
    const { booking } = allowed;
    const other = otherParty(allowed.party);
    const event = JSON.stringify({
      bookingId: booking.id,
      userId: caller.userId,
      role: allowed.party,
      isTyping: data.isTyping,
    });
    const to = { userId: other === "customer" ? booking.customerId : booking.providerId, role: other };
    this.reach.publishLive({ event: "typing", data: event }, { users: [to], admins: true });
    return SILENT;
  }

  /**
   * Who is online now (with `joining`, a socket of the room's own about to be marked joined). When
   * that changed, everyone joined hears it; the answer to a join carries it either way.
   */
  private async announcePresence(joining: Joiner[], closing?: string): Promise<OutEvent> {
    const booking = this.state.booking();
    const online = await this.presence.online([...this.reach.joinedHere(closing), ...joining]);
    const event: OutEvent = {
      event: "presence",
      data: JSON.stringify({ bookingId: booking?.id ?? "", online }),
    };
    if (booking && this.presence.changed(online)) {
      const users = [
        { userId: booking.customerId, role: "customer" as const },
        { userId: booking.providerId, role: "provider" as const },
      ];
      this.reach.publishLive(event, { users, admins: true });
    }
    return event;
  }

  private async audited(adminId: string, bookingId: string): Promise<boolean> {
    try {
      await recordAdminAccess(this.d1, adminId, "booking.join", bookingId);
      return true;
    } catch {
      return false;
    }
  }

  /** Per-connection and per-user token buckets for sends and for joins; a refusal says when to try again. */
  private limit(caller: Caller, what: "send" | "join", clientMessageId?: string): Refusal | null {
    const l = this.config().limits;
    const buckets =
      what === "send"
        ? ([
            [`send:socket:${caller.connectionId}`, l.sendRatePerSocket, l.sendBurstPerSocket],
            [`send:user:${caller.userId}`, l.sendRatePerUser, l.sendBurstPerUser],
          ] as const)
        : ([
            [`join:socket:${caller.connectionId}`, l.joinRatePerSocket, l.joinBurstPerSocket],
            [`join:user:${caller.userId}`, l.joinRatePerUser, l.joinBurstPerUser],
          ] as const);
    for (const [key, rate, burst] of buckets) {
      const taken = this.rateLimiter.take(key, rate, burst);
      if (!taken.ok) {
        const message = `Too many ${what === "send" ? "messages" : "joins"}; retry in ${taken.retryAfterMs} ms`;
        return refusal("rate_limited", message, {
          retryAfterMs: taken.retryAfterMs,
          ...(clientMessageId ? { clientMessageId } : {}),
        });
      }
    }
    return null;
  }
}

const FROZEN = "An admin has paused this chat; sending is not possible for now";

function terminated(): Refusal {
  return refusal("chat_terminated", "Chat has been terminated for this booking");
}
