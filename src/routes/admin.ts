import { getConfig } from "../config";
import { listAdminAccess, recordAdminAccess } from "../db/admin-audit";
import { listBookings } from "../db/admin-bookings";
import { listMessages } from "../db/admin-messages";
import { d1Shards } from "../db/shards";
import { retentionCutoff } from "../retention/cutoff";
import type { RouteHandlers } from "./serve";

/** Admin oversight: the live feed's shards, and the listings over D1 (each look recorded first). */
export const adminHandlers = {
  adminFeed: (c) => {
    const shards = getConfig(c.env).adminFeedShards;
    const sockets = Array.from({ length: shards }, (_, shard) => `/admin/ws?shard=${shard}`);
    return { body: { shards, sockets } };
  },
  adminAudit: async (c, { identity, query }) => {
    await recordAdminAccess(c.env.DB, identity.userId, "audit.read", query.adminId ?? "all");
    return { body: { entries: await listAdminAccess(c.env.DB, query.adminId, query.limit) } };
  },
  adminMessages: async (c, { identity, query }) => {
    await recordAdminAccess(c.env.DB, identity.userId, "messages.search", JSON.stringify(query));
    const config = getConfig(c.env);
    return Response.json(
      await listMessages(d1Shards(c.env), query, retentionCutoff(config.retentionDays, Date.now())),
    );
  },
  adminBookings: async (c, { identity, query }) => {
    await recordAdminAccess(c.env.DB, identity.userId, "bookings.list", JSON.stringify(query));
    return { body: await listBookings(d1Shards(c.env), query) };
  },
} satisfies Partial<RouteHandlers>;
