import { Hono } from "hono";
import { type AppEnv, requireSocketUser, requireUser } from "../auth/authenticate";
import { requireAllowedOrigin } from "../auth/origin";
import { requireAdmin } from "../auth/require-admin";
import { getConfig } from "../config";
import { listAdminAccess, recordAdminAccess } from "../db/admin-audit";
import { listBookings } from "../db/admin-bookings";
import { listMessages } from "../db/admin-messages";
import { database } from "../db/client";
import { listDeadLetters } from "../delivery/dead-letters";
import { feedStub } from "../delivery/targets";
import { ApiError } from "../errors";
import { jsonResponse } from "../json-response";
import {
  AdminAuditQuery,
  AdminBookingsQuery,
  AdminFeedQuery,
  type AdminFeedResponse,
  AdminMessagesQuery,
} from "../protocol";
import { withIdentity } from "../sockets/identity-header";
import { parseOr400 } from "../validation";
import { limitReads } from "./throttle";

/** Admin oversight: the live feed (one socket per shard) and the message listing over D1. */
export const adminRoutes = new Hono<AppEnv>();

adminRoutes.get("/feed", requireAllowedOrigin, requireUser, requireAdmin, limitReads, (c) => {
  const shards = getConfig(c.env).adminFeedShards;
  const sockets = Array.from({ length: shards }, (_, shard) => `/admin/ws?shard=${shard}`);
  return c.json({ shards, sockets } satisfies AdminFeedResponse);
});

adminRoutes.get("/ws", requireAllowedOrigin, requireSocketUser, requireAdmin, async (c) => {
  const shards = getConfig(c.env).adminFeedShards;
  const { shard = shards === 1 ? 0 : undefined } = parseOr400(AdminFeedQuery, c.req.query());
  if (shard === undefined || shard >= shards) {
    const which = shards === 1 ? "0" : `0 to ${shards - 1}`;
    throw new ApiError(
      400,
      "invalid_request",
      `The admin feed has ${shards} shards: connect to /admin/ws?shard=N for N from ${which} (GET /admin/feed lists them)`,
    );
  }
  await recordAdminAccess(c.env.DB, c.var.identity.userId, "feed.watch", `shard ${shard} of ${shards}`);
  return feedStub(c.env, shard, shards).fetch(withIdentity(c.req.raw, c.var.identity));
});

export const adminChatRoutes = new Hono<AppEnv>();

adminChatRoutes.use("*", requireUser, requireAdmin, limitReads);

adminChatRoutes.get("/dead-letters", async (c) => {
  await recordAdminAccess(c.env.DB, c.var.identity.userId, "dead-letters.read", "all");
  return jsonResponse({ deadLetters: await listDeadLetters(c.env.DB) });
});

adminChatRoutes.get("/audit", async (c) => {
  const query = parseOr400(AdminAuditQuery, c.req.query());
  await recordAdminAccess(c.env.DB, c.var.identity.userId, "audit.read", query.adminId ?? "all");
  return c.json({ entries: await listAdminAccess(c.env.DB, query.adminId, query.limit) });
});

adminChatRoutes.get("/messages", async (c) => {
  const query = parseOr400(AdminMessagesQuery, c.req.query());
  await recordAdminAccess(c.env.DB, c.var.identity.userId, "messages.search", JSON.stringify(query));
  return jsonResponse(await listMessages(database(c.env.DB), query));
});

adminChatRoutes.get("/bookings", async (c) => {
  const query = parseOr400(AdminBookingsQuery, c.req.query());
  await recordAdminAccess(c.env.DB, c.var.identity.userId, "bookings.list", JSON.stringify(query));
  return jsonResponse(await listBookings(database(c.env.DB), query));
});
