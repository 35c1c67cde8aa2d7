import { Hono } from "hono";
import { type AppEnv, requireSocketUser } from "../auth/authenticate";
import { requireAllowedOrigin } from "../auth/origin";
import { requireAdmin } from "../auth/require-admin";
import { getConfig } from "../config";
import { recordAdminAccess } from "../db/admin-audit";
import { feedStub, inboxStub } from "../delivery/targets";
import { ApiError } from "../errors";
import { AdminFeedQuery, EntityId } from "../protocol";
import { bookingRoom } from "../rooms";
import { withIdentity } from "../sockets/identity-header";
import { parseOr400 } from "../validation";

/**
 * The WebSocket routes (protocol/routes.ts `socketRoutes`): authenticated here, authorized and
 * accepted by the object that holds the socket. Each is an upgrade or a 426 (requireSocketUser).
 */
export const socketRoutes = new Hono<AppEnv>();

const socket = [requireAllowedOrigin, requireSocketUser] as const;

/** `GET /bookings/:id/ws`: the booking's chat socket. */
socketRoutes.get("/bookings/:id/ws", ...socket, async (c) => {
  const room = bookingRoom(c.env, parseOr400(EntityId, c.req.param("id")));
  return room.fetch(withIdentity(c.req.raw, c.var.identity));
});

/** `GET /me/ws`: the caller's inbox socket, any authenticated user. */
socketRoutes.get("/me/ws", ...socket, async (c) => {
  return inboxStub(c.env, c.var.identity).fetch(withIdentity(c.req.raw, c.var.identity));
});

/** `GET /admin/ws?shard=N`: one shard of the admins' live feed, recorded in the audit trail first. */
socketRoutes.get("/admin/ws", ...socket, requireAdmin, async (c) => {
  const shards = getConfig(c.env).adminFeedShards;
  const { shard = shards === 1 ? 0 : undefined } = parseOr400(AdminFeedQuery, c.req.query());
  if (shard === undefined || shard >= shards) {
    const which = shards === 1 ? "0" : `0 to ${shards - 1}`;
    throw new ApiError(
      "invalid_request",
      `The admin feed has ${shards} shards: connect to /admin/ws?shard=N for N from ${which} (GET /admin/feed lists them)`,
    );
  }
  await recordAdminAccess(c.env.DB, c.var.identity.userId, "feed.watch", `shard ${shard} of ${shards}`);
  return feedStub(c.env, shard, shards).fetch(withIdentity(c.req.raw, c.var.identity));
});
