import { DurableObject } from "cloudflare:workers";
import { z } from "zod";
import { getConfig } from "../config";
import { DELIVERY_LOG_SCHEMA, DeliveryLog } from "../delivery/delivery-log";
import type { DeliveryItem, DeliveryReceiver } from "../delivery/notify-outbox";
import { errorResponse } from "../errors";
import { describeError } from "../log";
import { CloseCode, inboxEventData } from "../protocol";
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
import { encode, readState, type SocketState, sendFrame } from "../sockets/socket-state";
import { transaction } from "../storage/transaction";
import { applySchema, type SchemaSteps } from "../storage/versioned-schema";
import { postSupportMessage } from "../support/thread-stub";

const INBOX_SCHEMA: SchemaSteps = [
  [
    ...DELIVERY_LOG_SCHEMA,
    "CREATE TABLE chats (booking_id TEXT PRIMARY KEY, summary TEXT NOT NULL, last_activity_at TEXT NOT NULL)",
    "CREATE INDEX chats_by_activity ON chats (last_activity_at DESC)",
  ],
];

const MAX_CHATS = 200;

/** The two fields the inbox indexes by; the rest of a summary is stored as delivered. */
const SummaryKey = z.object({ bookingId: z.string(), lastActivityAt: z.string() });

/**
 * One user's inbox, wherever they are in the app: every event of their bookings that concerns
 * them, on every device they have connected, plus the summaries behind `GET /chat/my-chats`.
 * Providers also send support messages through it.
 */
export class UserInbox extends DurableObject<Env> implements DeliveryReceiver {
  private readonly log: DeliveryLog;
  private readonly rateLimiter = new RateLimiter();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.transactionSync(() => applySchema(ctx.storage.sql, INBOX_SCHEMA));
    this.log = new DeliveryLog(ctx.storage.sql);
    answerHeartbeats(ctx);
  }

  async deliver(source: string, items: DeliveryItem[]): Promise<void> {
    const fresh = transaction(this.ctx.storage, [this.log], () => {
      const fresh = this.log.fresh(source, items);
      for (const item of fresh) if (item.summary) this.saveSummary(item.summary);
      return fresh;
    });
    const sockets = liveSockets(this.ctx);
    for (const item of fresh) {
      if (item.frame === null) continue;
      for (const ws of sockets) sendFrame(ws, item.frame);
    }
  }

  /**
   * The body of `GET /chat/my-chats`: the user's chats, newest activity first. Summaries are
   * stored as their rooms delivered them, so the list is assembled without re-encoding.
   */
  async myChatsJson(): Promise<string> {
    const rows = this.ctx.storage.sql
      .exec<{ summary: string }>(
        "SELECT summary FROM chats ORDER BY last_activity_at DESC LIMIT ?",
        MAX_CHATS,
      )
      .toArray();
    return `{"chats":[${rows.map((row) => row.summary).join(",")}]}`;
  }

  override async fetch(request: Request): Promise<Response> {
    const identity = readIdentity(request);
    if (!identity) return errorResponse(401, "unauthorized", "Missing caller identity");
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return errorResponse(426, "invalid_request", "Expected a WebSocket upgrade");
    }
    const { maxSocketsPerUser } = getConfig(this.env).limits;
    return (
      tooManySockets(this.ctx, identity.userId, maxSocketsPerUser) ??
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
      console.error("inbox: frame failed", describeError(error));
      sendFrame(ws, encode("chat-error", { code: "internal_error", message: "Something went wrong" }));
    }
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    closeBack(ws, code, reason);
  }

  override async webSocketError(_ws: WebSocket, error: unknown): Promise<void> {
    console.warn("inbox: socket error", error instanceof Error ? error.message : error);
  }

  private async handleFrame(ws: WebSocket, state: SocketState, raw: string | ArrayBuffer): Promise<void> {
    const { limits } = getConfig(this.env);
    const frame = parseFrame(raw, inboxEventData, limits.maxFrameBytes);
    if (frame instanceof ChatError) return sendChatError(ws, frame);
    if (state.role === "admin") {
      const hint = "Admins reply with POST /chat/support/{providerId}/messages";
      return sendChatError(ws, new ChatError("not_authorized", hint, frame.data.clientMessageId));
    }
    const taken = this.rateLimiter.take(state.userId, limits.sendRatePerUser, limits.sendBurstPerUser);
    if (!taken.ok) {
      const message = `Too many messages; retry in ${taken.retryAfterMs} ms`;
      return sendChatError(
        ws,
        new ChatError("rate_limited", message, frame.data.clientMessageId, taken.retryAfterMs),
      );
    }
    // support-chat: the thread stores it and delivers it back here (to every device) as the acknowledgement.
    const identity = { userId: state.userId, role: state.role, expiresAt: state.jwtExpiresAt };
    const result = await postSupportMessage(this.env, identity, state.userId, frame.data);
    if (!result.ok)
      return sendChatError(ws, new ChatError(result.code, result.message, frame.data.clientMessageId));
    // A resend is not delivered again; answer it here so a client that lost its ack learns it went through.
    if (result.value.duplicate) sendFrame(ws, encode("support-chat", result.value.message));
  }

  /** The summary comes from the booking's room, our own code; it is validated when read. */
  private saveSummary(json: string): void {
    const summary = SummaryKey.parse(JSON.parse(json));
    this.ctx.storage.sql.exec(
      `INSERT INTO chats (booking_id, summary, last_activity_at) VALUES (?, ?, ?)
       ON CONFLICT (booking_id) DO UPDATE SET summary = excluded.summary, last_activity_at = excluded.last_activity_at`,
      summary.bookingId,
      json,
      summary.lastActivityAt,
    );
  }
}
