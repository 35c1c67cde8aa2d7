import { DurableObject } from "cloudflare:workers";
import type { z } from "zod";
import type { Identity } from "../auth/jwt";
import { getConfig } from "../config";
import { errorResponse } from "../errors";
import { describeError } from "../log";
import { CloseCode } from "../protocol";
import { acceptSocket, answerHeartbeats, closeIfExpired, tooManySockets } from "./accept";
import { FrameBudget } from "./frame-budget";
import {
  ChatError,
  closeIfOverBudget,
  type FrameOf,
  misencoded,
  parseFrame,
  sendChatError,
  socketBudget,
} from "./frames";
import { readIdentity } from "./identity-header";
import { encode, readState, type SocketState, sendFrame } from "./socket-state";

type Schemas = Record<string, z.core.$ZodType>;

/**
 * The base of every object that holds sockets (booking room, inbox, admin feed shard), in the
 * manner of partyserver's `Server`: it owns the upgrade (identity from the Worker, socket cap),
 * the frame loop (parse against `clientEvents`, size limit, errors caught and answered), closes,
 * the runtime-answered heartbeat and the alarm; each object implements its hooks.
 */
export abstract class SocketObject<Events extends Schemas> extends DurableObject<Env> {
  /** Names the object in logs. */
  protected abstract readonly label: string;
  /** The events a client may send, by name; an empty record makes the sockets read-only. */
  protected abstract readonly clientEvents: Events;
  private readonly budget = new FrameBudget();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    answerHeartbeats(ctx);
  }

  /** Who may connect, decided before the upgrade: a refusal response, or null to accept. */
  protected onBeforeConnect(_identity: Identity): Response | null {
    return null;
  }

  /** A parsed frame from an authenticated socket whose JWT is still valid. */
  protected abstract onMessage(
    ws: WebSocket,
    state: SocketState,
    frame: FrameOf<Events>,
  ): Promise<void> | void;

  /** A frame that did not parse; answered with `chat-error` unless overridden. */
  protected onInvalidFrame(ws: WebSocket, error: ChatError): void {
    sendChatError(ws, error);
  }

  protected onAlarm(): Promise<void> | void {}

  override async fetch(request: Request): Promise<Response> {
    const identity = readIdentity(request);
    if (!identity) return errorResponse(401, "unauthorized", "Missing caller identity");
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return errorResponse(426, "invalid_request", "Expected a WebSocket upgrade", { Upgrade: "websocket" });
    }
    const refusal = this.onBeforeConnect(identity);
    if (refusal) return refusal;
    const { maxSocketsPerUser } = getConfig(this.env).limits;
    return tooManySockets(this.ctx, identity, maxSocketsPerUser) ?? acceptSocket(this.ctx, request, identity);
  }

  /**
   * Synchronous for a frame past the budget: the runtime dispatches a plain call about 1.5 times
   * faster than an async one, and a flood is mostly such frames.
   */
  override webSocketMessage(ws: WebSocket, raw: string | ArrayBuffer): Promise<void> | undefined {
    try {
      if (closeIfOverBudget(ws, this.budget, socketBudget(getConfig(this.env).limits))) return;
      if (misencoded(ws, raw)) return;
    } catch (error) {
      console.error(`${this.label}: frame failed`, describeError(error));
      return;
    }
    return this.handleFrame(ws, raw);
  }

  private async handleFrame(ws: WebSocket, raw: string | ArrayBuffer): Promise<void> {
    try {
      const { limits } = getConfig(this.env);
      const state = readState(ws);
      if (!state) return ws.close(CloseCode.policyViolation, "unknown connection");
      if (closeIfExpired(ws, state)) return;
      const frame = parseFrame(raw, this.clientEvents, limits.maxFrameBytes);
      if (frame instanceof ChatError) return this.onInvalidFrame(ws, frame);
      await this.onMessage(ws, state, frame);
    } catch (error) {
      console.error(`${this.label}: frame failed`, describeError(error));
      sendFrame(ws, encode("chat-error", { code: "internal_error", message: "Something went wrong" }));
    }
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    // 1005 (no code) and 1006 (no close frame) mean the peer is gone: there is no one to answer.
    if (code === 1005 || code === 1006) return;
    try {
      ws.close(code, reason);
    } catch {
      // Already closed.
    }
  }

  override async webSocketError(_ws: WebSocket, error: unknown): Promise<void> {
    console.warn(`${this.label}: socket error`, describeError(error));
  }

  override async alarm(): Promise<void> {
    try {
      await this.onAlarm();
    } catch (error) {
      // Never rethrown: the runtime's own retries would run on top of the object's schedule.
      console.error(`${this.label}: alarm failed`, describeError(error));
    }
  }
}
