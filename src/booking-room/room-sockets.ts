import type { z } from "zod";
import type { Limits } from "../config";
import { recordAdminAccess } from "../db/admin-audit";
import {
  type BookingChatData,
  type ClientEvent,
  type JoinBookingData,
  type MarkReadData as MarkReadSchema,
  type PartyRole,
  REPLAY_LIMIT,
} from "../protocol";
import { liveSockets } from "../sockets/accept";
import { ChatError, sendChatError } from "../sockets/frames";
import { RateLimiter } from "../sockets/rate-limiter";
import { encode, readState, type SocketState, sendFrame, userTag, writeState } from "../sockets/socket-state";
import type { Audience, Notice } from "./audience";
import { partyOf } from "./booking-store";
import { join, markRead, send } from "./chat-frames";
import { messageFor, presentMessage } from "./present";
import { otherParty } from "./read-state";
import { type RoomState, roomCounters } from "./room-state";

/** A `booking-chat` frame around a message already encoded. */
const chatFrame = (messageJson: string) => `{"event":"booking-chat","data":${messageJson}}`;

type JoinData = z.infer<typeof JoinBookingData>;
type ChatData = z.infer<typeof BookingChatData>;
type MarkReadData = z.infer<typeof MarkReadSchema>;

/**
 * The booking room's clients: joining, chatting, read receipts and lifecycle announcements. The
 * steps take the socket's state, not the socket, so a Socket.IO connection held elsewhere (see
 * room.ts `remote*`) goes through exactly the same checks, storage and broadcast.
 */
export class RoomSockets {
  private readonly rateLimiter = new RateLimiter();

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly state: RoomState,
    private readonly limits: () => Limits,
    private readonly d1: D1Database,
  ) {}

  private async audited(adminId: string, bookingId: string): Promise<boolean> {
    try {
      await recordAdminAccess(this.d1, adminId, "booking.join", bookingId);
      return true;
    } catch {
      return false;
    }
  }

  async handle(ws: WebSocket, socket: SocketState, frame: ClientEvent): Promise<void> {
    // Errors name the booking only when it is this connection's; another id is not echoed back.
    const ownId = frame.data.bookingId === this.state.booking()?.id ? frame.data.bookingId : undefined;
    if (frame.event === "join-booking") {
      const joined = await this.join(socket, frame.data);
      if (joined instanceof ChatError) return sendChatError(ws, joined, ownId);
      writeState(ws, joined.state);
      sendFrame(ws, joined.frame);
      for (const json of joined.replayJson) sendFrame(ws, chatFrame(json));
      return;
    }
    if (frame.event === "mark-read") {
      const read = await this.markRead(socket, frame.data);
      if (read instanceof ChatError) sendChatError(ws, read, ownId);
      return;
    }
    const sent = await this.send(socket, frame.data);
    if (sent instanceof ChatError) return sendChatError(ws, sent, ownId);
    // A resend is answered to its sender only; a new message was broadcast to every joined socket.
    if (sent.duplicate) sendFrame(ws, sent.frame);
  }

  /**
   * `join-booking`, whatever carries it: checks, the audit entry for an admin, and the frames to
   * answer with (`booking-joined`, then at most REPLAY_LIMIT replayed messages, oldest first).
   */
  async join(
    socket: SocketState,
    data: JoinData,
  ): Promise<
    | { state: SocketState; frame: string; replayJson: string[]; joinedJson: string; lastSeq: number }
    | ChatError
  > {
    const booking = this.state.booking();
    const limited = this.limit(socket, "join", undefined);
    if (limited) return limited;
    const joined = join(booking, socket, data, booking ? this.state.conversation.log : null);
    if (joined instanceof ChatError) return joined;
    // An admin watching a conversation is on the record before seeing any of it.
    if (socket.role === "admin" && !(await this.audited(socket.userId, data.bookingId))) {
      return new ChatError("unavailable", "The audit trail cannot be written; try again");
    }
    const { bookingId, sinceSeq } = data;
    const replayThrough =
      sinceSeq === undefined ? undefined : Math.min(joined.lastSeq, sinceSeq + REPLAY_LIMIT);
    const payload = {
      bookingId,
      chatActive: joined.chatActive,
      role: socket.role,
      lastSeq: joined.lastSeq,
      ...(replayThrough === undefined ? {} : { replayThrough }),
    };
    // Replayed in the same event as the join, so no live message can slip in between.
    const replayJson =
      sinceSeq === undefined || replayThrough === undefined
        ? []
        : this.replay(socket, sinceSeq, replayThrough);
    return {
      state: joined.state,
      frame: encode("booking-joined", payload),
      replayJson,
      joinedJson: JSON.stringify(payload),
      lastSeq: joined.lastSeq,
    };
  }

  /** `booking-chat`, whatever carries it: stored, then broadcast to the room's joined sockets. */
  async send(
    socket: SocketState,
    data: ChatData,
  ): Promise<{ frame: string; messageJson: string; duplicate: boolean } | ChatError> {
    const booking = this.state.booking();
    const limited = this.limit(socket, "send", data.clientMessageId);
    if (limited) return limited;
    const sent = send(booking, socket, data, booking ? this.state.conversation.log : null, this.limits());
    if (sent instanceof ChatError) return sent;
    const messageJson = JSON.stringify(presentMessage(data.bookingId, sent.message));
    const frame = chatFrame(messageJson);
    if (sent.duplicate) return { frame, messageJson, duplicate: true };
    roomCounters.messages++;
    for (const peer of liveSockets(this.ctx)) {
      if (readState(peer)?.joined) sendFrame(peer, frame);
    }
    // The sender has its acknowledgement; inboxes, the admin feed and D1 follow by cursor.
    await this.state.conversation.afterWrite();
    return { frame, messageJson, duplicate: false };
  }

  /** `mark-read`, whatever carries it; the other party's sockets here hear `messages-read`. */
  async markRead(socket: SocketState, data: MarkReadData): Promise<null | ChatError> {
    const booking = this.state.booking();
    const read = markRead(booking, socket, data, booking ? this.state.conversation.log : null);
    if (read instanceof ChatError) return read;
    if (!booking || !this.state.reads.advance(read.party, read.seq)) return null;
    const other = otherParty(read.party);
    const receipt = encode("messages-read", {
      bookingId: booking.id,
      readerId: socket.userId,
      seq: read.seq,
    });
    const otherId = other === "customer" ? booking.customerId : booking.providerId;
    for (const peer of liveSockets(this.ctx, userTag(otherId, other))) {
      if (readState(peer)?.role === other) sendFrame(peer, receipt);
    }
    await this.state.conversation.afterWrite();
    return null;
  }

  /** Sends lifecycle events to the sockets of the users they concern, tokens only to their holders. */
  announce(notices: Notice[]): void {
    const booking = this.state.booking();
    if (!booking || notices.length === 0) return;
    for (const notice of notices) {
      const frame = JSON.stringify(notice.event);
      for (const ws of this.recipients(notice.to, booking.customerId, booking.providerId))
        sendFrame(ws, frame);
    }
  }

  /** Resume: the messages after `sinceSeq` through `through` (at most REPLAY_LIMIT), oldest first. */
  private replay(socket: SocketState, sinceSeq: number, through: number): string[] {
    const view = this.state.followers();
    const reader = partyOf(view.booking, socket) ?? "admin";
    return view.log
      .after(sinceSeq, through - sinceSeq)
      .map((m) => JSON.stringify(messageFor(view, reader, m)));
  }

  /** Per-socket and per-user token buckets for sends and for joins; a refusal says when to try again. */
  private limit(socket: SocketState, what: "send" | "join", clientMessageId?: string): ChatError | null {
    const l = this.limits();
    const buckets =
      what === "send"
        ? ([
            [`send:socket:${socket.id}`, l.sendRatePerSocket, l.sendBurstPerSocket],
            [`send:user:${socket.userId}`, l.sendRatePerUser, l.sendBurstPerUser],
          ] as const)
        : ([
            [`join:socket:${socket.id}`, l.joinRatePerSocket, l.joinBurstPerSocket],
            [`join:user:${socket.userId}`, l.joinRatePerUser, l.joinBurstPerUser],
          ] as const);
    for (const [key, rate, burst] of buckets) {
      const taken = this.rateLimiter.take(key, rate, burst);
      if (!taken.ok) {
        const message = `Too many ${what === "send" ? "messages" : "joins"}; retry in ${taken.retryAfterMs} ms`;
        return new ChatError("rate_limited", message, clientMessageId, taken.retryAfterMs);
      }
    }
    return null;
  }

  private recipients(audiences: Audience[], customerId: string, providerId: string): Set<WebSocket> {
    const sockets = new Set<WebSocket>();
    for (const audience of audiences) {
      if (audience === "customer" || audience === "provider") {
        const party: PartyRole = audience;
        const userId = party === "customer" ? customerId : providerId;
        for (const ws of liveSockets(this.ctx, userTag(userId, party))) {
          if (readState(ws)?.role === party) sockets.add(ws);
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
