import { z } from "zod";
import { type ServerEvent, type ServerEventName, type ServerEventPayload, UserRole } from "../protocol";

/**
 * What the room remembers about one socket. It lives in the socket's attachment, so it
 * survives hibernation and eviction; instance memory is only a cache of it.
 */
export const SocketState = z.object({
  v: z.literal(1),
  /** Names the socket for per-socket limits. */
  id: z.string(),
  userId: z.string(),
  role: UserRole,
  joined: z.boolean(),
  /** When the caller's JWT expires (ms since epoch). */
  jwtExpiresAt: z.number(),
});
export type SocketState = z.infer<typeof SocketState>;

const cache = new WeakMap<WebSocket, SocketState>();

/** The socket's state, decoded once per wake-up; null for a socket that is not ours. */
export function readState(ws: WebSocket): SocketState | null {
  const cached = cache.get(ws);
  if (cached) return cached;
  const parsed = SocketState.safeParse(ws.deserializeAttachment());
  if (!parsed.success) return null;
  cache.set(ws, parsed.data);
  return parsed.data;
}

export function writeState(ws: WebSocket, state: SocketState): void {
  ws.serializeAttachment(state);
  cache.set(ws, state);
}

/** Tags a socket with its user in one role: an admin and a customer sharing an id are two users. */
export function userTag(userId: string, role: UserRole): string {
  return `user:${role}:${userId}`;
}

export function encode<K extends ServerEventName>(event: K, data: ServerEventPayload<K>): string {
  return JSON.stringify({ event, data } satisfies { event: K; data: ServerEventPayload<K> });
}

/** Sends without throwing: a socket that is closing must never break delivery to the others. */
export function sendFrame(ws: WebSocket, frame: string): void {
  try {
    ws.send(frame);
  } catch (error) {
    console.warn("dropping frame to a closed socket", error instanceof Error ? error.message : error);
  }
}

export function sendEvent(ws: WebSocket, event: ServerEvent): void {
  sendFrame(ws, JSON.stringify(event));
}
