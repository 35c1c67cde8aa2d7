import type { Limits } from "../config";
import { recordAdminAccess } from "../db/admin-audit";
import { type ClientEvent, type PartyRole, REPLAY_LIMIT } from "../protocol";
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

/** The booking room's sockets: joining, chatting, read receipts, and lifecycle announcements. */
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
    const booking = this.state.booking();
    // Errors name the booking only when it is this connection's; another id is not echoed back.
    const ownId = frame.data.bookingId === booking?.id ? frame.data.bookingId : undefined;
    const log = booking ? this.state.conversation.log : null;

    if (frame.event === "join-booking") {
      const limited = this.limit(socket, "join", undefined);
      if (limited) return sendChatError(ws, limited, ownId);
      const joined = join(booking, socket, frame.data, log);
      if (joined instanceof ChatError) return sendChatError(ws, joined, ownId);
      // An admin watching a conversation is on the record before seeing any of it.
      if (socket.role === "admin" && !(await this.audited(socket.userId, frame.data.bookingId))) {
        return sendChatError(
          ws,
          new ChatError("unavailable", "The audit trail cannot be written; try again"),
          ownId,
        );
      }
      writeState(ws, joined.state);
      const { bookingId, sinceSeq } = frame.data;
      const replayThrough =
        sinceSeq === undefined ? undefined : Math.min(joined.lastSeq, sinceSeq + REPLAY_LIMIT);
      sendFrame(
        ws,
        encode("booking-joined", {
          bookingId,
          chatActive: joined.chatActive,
          role: socket.role,
          lastSeq: joined.lastSeq,
          ...(replayThrough === undefined ? {} : { replayThrough }),
        }),
      );
      if (sinceSeq !== undefined && replayThrough !== undefined)
        this.replay(ws, socket, sinceSeq, replayThrough);
      return;
    }

    if (frame.event === "mark-read") {
      const read = markRead(booking, socket, frame.data, log);
      if (read instanceof ChatError) return sendChatError(ws, read, ownId);
      if (!booking || !this.state.reads.advance(read.party, read.seq)) return;
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
      return;
    }

    const limited = this.limit(socket, "send", frame.data.clientMessageId);
    if (limited) return sendChatError(ws, limited, ownId);
    const sent = send(booking, socket, frame.data, log, this.limits());
    if (sent instanceof ChatError) return sendChatError(ws, sent, ownId);
    const payload = encode("booking-chat", presentMessage(frame.data.bookingId, sent.message));
    if (sent.duplicate) return sendFrame(ws, payload);
    roomCounters.messages++;
    for (const peer of liveSockets(this.ctx)) {
      if (readState(peer)?.joined) sendFrame(peer, payload);
    }
    // The sender has its acknowledgement; inboxes, the admin feed and D1 follow by cursor.
    await this.state.conversation.afterWrite();
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

  /**
   * Resume: the messages after `sinceSeq` through `through` (at most REPLAY_LIMIT), oldest first.
   * Runs without awaiting, so no live message can slip in between: the client sees each message
   * once, in order, with no gap.
   */
  private replay(ws: WebSocket, socket: SocketState, sinceSeq: number, through: number): void {
    const view = this.state.followers();
    const reader = partyOf(view.booking, socket) ?? "admin";
    for (const m of view.log.after(sinceSeq, through - sinceSeq)) {
      sendFrame(ws, encode("booking-chat", messageFor(view, reader, m)));
    }
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
