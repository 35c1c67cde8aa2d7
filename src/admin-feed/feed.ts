import { DurableObject } from "cloudflare:workers";
import { getConfig } from "../config";
import { DELIVERY_LOG_SCHEMA, DeliveryLog } from "../delivery/delivery-log";
import type { DeliveryItem, DeliveryReceiver } from "../delivery/notify-outbox";
import { errorResponse } from "../errors";
import { CloseCode } from "../protocol";
import {
  acceptSocket,
  answerHeartbeats,
  closeBack,
  closeIfExpired,
  liveSockets,
  tooManySockets,
} from "../sockets/accept";
import { ChatError, parseFrame } from "../sockets/frames";
import { readIdentity } from "../sockets/identity-header";
import { encode, readState, sendFrame } from "../sockets/socket-state";
import { transaction } from "../storage/transaction";
import { applySchema } from "../storage/versioned-schema";

/**
 * The admins' live view of everything: every booking message, support message and booking
 * change. Conversations deliver to it in batches (one call per conversation per flush, however
 * many events), so its cost grows with the number of busy conversations, not of messages.
 */
export class AdminFeed extends DurableObject<Env> implements DeliveryReceiver {
  private readonly log: DeliveryLog;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.transactionSync(() => applySchema(ctx.storage.sql, [DELIVERY_LOG_SCHEMA]));
    this.log = new DeliveryLog(ctx.storage.sql);
    answerHeartbeats(ctx);
  }

  async deliver(source: string, items: DeliveryItem[]): Promise<void> {
    const fresh = transaction(this.ctx.storage, [this.log], () => this.log.fresh(source, items));
    const frames = fresh.flatMap((item) => (item.frame === null ? [] : [item.frame]));
    if (frames.length === 0) return;
    for (const ws of liveSockets(this.ctx)) for (const frame of frames) sendFrame(ws, frame);
  }

  override async fetch(request: Request): Promise<Response> {
    const identity = readIdentity(request);
    if (!identity) return errorResponse(401, "unauthorized", "Missing caller identity");
    if (identity.role !== "admin")
      return errorResponse(403, "forbidden", "The admin feed is for admins only");
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return errorResponse(426, "invalid_request", "Expected a WebSocket upgrade");
    }
    const { maxSocketsPerUser } = getConfig(this.env).limits;
    return (
      tooManySockets(this.ctx, identity.userId, maxSocketsPerUser) ??
      acceptSocket(this.ctx, request, identity)
    );
  }

  /** The feed is read-only: every client event is unknown here. */
  override async webSocketMessage(ws: WebSocket, raw: string | ArrayBuffer): Promise<void> {
    const state = readState(ws);
    if (!state) return ws.close(CloseCode.policyViolation, "unknown connection");
    if (closeIfExpired(ws, state)) return;
    const refusal = parseFrame(raw, {});
    const message = refusal instanceof ChatError ? `${refusal.message} (the admin feed is read-only)` : "";
    sendFrame(ws, encode("chat-error", { code: "invalid_payload", message }));
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    closeBack(ws, code, reason);
  }

  override async webSocketError(_ws: WebSocket, error: unknown): Promise<void> {
    console.warn("admin feed: socket error", error instanceof Error ? error.message : error);
  }
}
