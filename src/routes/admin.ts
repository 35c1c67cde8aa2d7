import { Hono } from "hono";
import { type AppEnv, requireUser } from "../auth/authenticate";
import { requireAllowedOrigin } from "../auth/origin";
import { requireAdmin } from "../auth/require-admin";
import { listMessages } from "../db/admin-messages";
import { database } from "../db/client";
import { ApiError } from "../errors";
import { jsonResponse } from "../json-response";
import { AdminMessagesQuery } from "../protocol";
import { withIdentity } from "../sockets/identity-header";
import { parseOr400 } from "../validation";

/** Admin oversight: the live feed socket and the message listing over D1. */
export const adminRoutes = new Hono<AppEnv>();

adminRoutes.use("*", requireAllowedOrigin, requireUser, requireAdmin);

adminRoutes.get("/ws", async (c) => {
  if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") {
    throw new ApiError(426, "invalid_request", "Expected a WebSocket upgrade", { Upgrade: "websocket" });
  }
  const feed = c.env.ADMIN_FEED.get(c.env.ADMIN_FEED.idFromName("global"));
  return feed.fetch(withIdentity(c.req.raw, c.var.identity));
});

export const adminChatRoutes = new Hono<AppEnv>();

adminChatRoutes.use("*", requireUser, requireAdmin);

adminChatRoutes.get("/messages", async (c) => {
  const query = parseOr400(AdminMessagesQuery, c.req.query());
  return jsonResponse(await listMessages(database(c.env.DB), query));
});
