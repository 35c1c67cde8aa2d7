import { z } from "zod";
import { UserRole } from "../protocol";
import { closeQuietly } from "../sockets/frames";
import { SERVER_DISCONNECT } from "./codec";

/** A Socket.IO connection, in its WebSocket attachment: it survives hibernation and eviction. */
export const Connection = z.object({
  v: z.literal(1),
  sid: z.string(),
  hub: z.number().int().nonnegative(),
  openedAt: z.number(),
  user: z.object({ userId: z.string(), role: UserRole, jwtExpiresAt: z.number() }).nullable(),
  /**
   * The bookings it joined, each with the last seq as of its join: what came before it was
   * replayed by the join (or not asked for), so the hub drops it if the room sends it later. A join
   * still waiting for its room holds its place (`pending`), so joins sent back to back cannot
   * exceed the cap, and hears nothing yet.
   */
  joined: z.array(
    z.object({
      bookingId: z.string(),
      afterSeq: z.number().int().nonnegative(),
      pending: z.boolean().optional(),
    }),
  ),
  /** An admin that asked for every booking's messages (`watch-feed`). */
  feed: z.boolean().default(false),
});
export type Connection = z.infer<typeof Connection>;
export type ConnectionUser = NonNullable<Connection["user"]>;

/** Bookings one connection may have joined at once. */
export const MAX_JOINED = 50;

/** The seq a connection joined `bookingId` at, once its join has gone through. */
export function joinedAt(connection: Connection, bookingId: string): number | undefined {
  const entry = connection.joined.find((j) => j.bookingId === bookingId);
  return entry && !entry.pending ? entry.afterSeq : undefined;
}

/** Whether it joined `bookingId` or is joining it now. */
export function joinsOrJoined(connection: Connection, bookingId: string): boolean {
  return connection.joined.some((j) => j.bookingId === bookingId);
}

export function isUser(connection: Connection, who: { userId: string; role: UserRole }): boolean {
  return connection.user?.userId === who.userId && connection.user.role === who.role;
}

/** Closes a connection whose JWT has expired (Socket.IO disconnect, then 4401, as a native socket). */
export function closeIfExpired(ws: WebSocket, connection: Connection, now = Date.now()): boolean {
  if (!connection.user || connection.user.jwtExpiresAt > now) return false;
  try {
    ws.send(SERVER_DISCONNECT);
  } catch {
    // Already closing.
  }
  closeQuietly(ws, 4401, "jwt_expired");
  return true;
}

/**
 * Why a connection should be closed, if it should: no answer to pings within `pingLimitMs`, or no
 * CONNECT packet within `connectTimeoutMs` of opening (Socket.IO's connectTimeout, shorter here:
 * a connection nobody has logged in on gets only a few seconds).
 */
export function staleReason(
  connection: Connection | null,
  lastHeard: number,
  now: number,
  limits: { pingLimitMs: number; connectTimeoutMs: number },
): string | null {
  if (!connection) return "unknown connection";
  if (connection.user === null && now - connection.openedAt >= limits.connectTimeoutMs)
    return "connect timeout";
  if (now - lastHeard > limits.pingLimitMs) return "ping timeout";
  return null;
}
