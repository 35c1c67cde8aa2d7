import type { Identity } from "../auth/jwt";
import { errorResponse } from "../errors";
import { CloseCode, PING_FRAME, PONG_FRAME, SUBPROTOCOL } from "../protocol";
import { readState, type SocketState, userTag, writeState } from "./socket-state";

/** Answers the client heartbeat in the runtime, without waking the object (see protocol/heartbeat.ts). */
export function answerHeartbeats(ctx: DurableObjectState): void {
  ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING_FRAME, PONG_FRAME));
}

/** Refuses a new socket when the user already holds `max` live ones here. */
export function tooManySockets(
  ctx: DurableObjectState,
  who: Pick<Identity, "userId" | "role">,
  max: number,
): Response | null {
  if (liveSockets(ctx, userTag(who.userId, who.role)).length < max) return null;
  return errorResponse(429, "too_many_connections", `At most ${max} open connections per user`);
}

/** Accepts a hibernatable socket for `identity`; selects our subprotocol when the browser offered it. */
export function acceptSocket(
  ctx: DurableObjectState,
  request: Request,
  identity: Identity,
  tags: string[] = [],
): Response {
  const { 0: client, 1: server } = new WebSocketPair();
  ctx.acceptWebSocket(server, [userTag(identity.userId, identity.role), ...tags]);
  writeState(server, {
    v: 1,
    id: crypto.randomUUID(),
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

/**
 * Every frame is authorized afresh, including the identity behind the socket: once its JWT has
 * expired the socket is closed with 4401 and the frame is dropped.
 */
export function closeIfExpired(ws: WebSocket, state: SocketState): boolean {
  if (state.jwtExpiresAt > Date.now()) return false;
  ws.close(CloseCode.jwtExpired, "jwt_expired");
  return true;
}

/**
 * The object's sockets (with `tag`, if given) whose JWT is still valid. Expired ones are closed
 * with 4401 on the way, so nothing is pushed to an identity that is no longer proven.
 */
export function liveSockets(ctx: DurableObjectState, tag?: string): WebSocket[] {
  const now = Date.now();
  return ctx.getWebSockets(tag).filter((ws) => {
    const state = readState(ws);
    if (!state) return false;
    if (state.jwtExpiresAt > now) return true;
    try {
      ws.close(CloseCode.jwtExpired, "jwt_expired");
    } catch {
      // Already closing.
    }
    return false;
  });
}
