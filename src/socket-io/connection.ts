import { z } from "zod";
import { UserRole } from "../protocol";
import type { Attachment, StateCodec } from "../sockets/attachment";

/**
 * What a hub keeps about each Socket.IO connection, in its attachment: the hub it is on, the
 * bookings it joined, each with the last seq as of its join (what came before was replayed by the
 * join, or not asked for, so the hub drops it if a room sends it later), and whether an admin asked
 * for every booking's messages (`watch-feed`). A join still waiting for its room holds its place
 * (`pending`), so joins sent back to back cannot pass the cap, and hears nothing yet.
 */
export const HubConnection = z.object({
  hub: z.number().int().nonnegative(),
  joined: z.array(
    z.object({
      bookingId: z.string(),
      afterSeq: z.number().int().nonnegative(),
      pending: z.boolean().optional(),
    }),
  ),
  feed: z.boolean(),
});
export type HubConnection = z.infer<typeof HubConnection>;

/** Bookings one connection may have joined at once. */
export const MAX_JOINED = 50;

export const HUB_CONNECTION: StateCodec<HubConnection> = {
  schema: HubConnection,
  // A connection opened before attachments had a version 2 kept the same fields flat, its sid as id.
  upgrade: (raw) => {
    const v1 = z
      .object({
        v: z.literal(1),
        sid: z.string(),
        openedAt: z.number(),
        user: z.object({ userId: z.string(), role: UserRole, jwtExpiresAt: z.number() }).nullable(),
        hub: z.number(),
        joined: HubConnection.shape.joined,
        feed: z.boolean().default(false),
      })
      .safeParse(raw);
    if (!v1.success) return null;
    const { sid, openedAt, user, hub, joined, feed } = v1.data;
    return {
      v: 2,
      id: sid,
      openedAt,
      peer: user,
      state: { hub, joined, feed },
    } satisfies Attachment<HubConnection>;
  },
};

/** The seq a connection joined `bookingId` at, once its join has gone through. */
export function joinedAt(connection: HubConnection, bookingId: string): number | undefined {
  const entry = connection.joined.find((j) => j.bookingId === bookingId);
  return entry && !entry.pending ? entry.afterSeq : undefined;
}

/** Whether it joined `bookingId` or is joining it now. */
export function joinsOrJoined(connection: HubConnection, bookingId: string): boolean {
  return connection.joined.some((j) => j.bookingId === bookingId);
}
