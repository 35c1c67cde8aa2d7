import { Hono } from "hono";
import { type AppEnv, requireUser } from "../auth/authenticate";
import { requireAdmin } from "../auth/require-admin";
import { recordAdminAccess } from "../db/admin-audit";
import { database } from "../db/client";
import { listSupportThreads } from "../db/support-threads";
import { ApiError, unwrap } from "../errors";
import { jsonResponse } from "../json-response";
import { EntityId, HistoryQuery, SupportMessageBody } from "../protocol";
import { CUSTOMERS_CANNOT_CHAT } from "../support/thread";
import { postSupportMessage, supportThread } from "../support/thread-stub";
import { jsonBody, parseOr400 } from "../validation";
import { limitReads } from "./throttle";

/** Support chat between each provider and the admins (chatType `admin`). */
export const supportRoutes = new Hono<AppEnv>();

supportRoutes.use("*", requireUser, limitReads);

// A provider starts or continues its own thread.
supportRoutes.post("/messages", async (c) => {
  const { identity } = c.var;
  if (identity.role === "customer") throw new ApiError(403, "forbidden", CUSTOMERS_CANNOT_CHAT);
  if (identity.role !== "provider") {
    throw new ApiError(403, "forbidden", "Admins reply with POST /chat/support/{providerId}/messages");
  }
  const body = await jsonBody(c, SupportMessageBody);
  const { message, duplicate } = unwrap(await postSupportMessage(c.env, identity, identity.userId, body));
  return jsonResponse({ message }, duplicate ? 200 : 201);
});

supportRoutes.get("/", requireAdmin, async (c) => {
  await recordAdminAccess(c.env.DB, c.var.identity.userId, "support.list", "all");
  return jsonResponse({ threads: await listSupportThreads(database(c.env.DB)) });
});

supportRoutes.post("/:providerId/messages", async (c) => {
  const { identity } = c.var;
  if (identity.role === "customer") throw new ApiError(403, "forbidden", CUSTOMERS_CANNOT_CHAT);
  if (identity.role !== "admin")
    throw new ApiError(403, "forbidden", "Providers write with POST /chat/support/messages");
  const providerId = parseOr400(EntityId, c.req.param("providerId"));
  const body = await jsonBody(c, SupportMessageBody);
  const { message, duplicate } = unwrap(await postSupportMessage(c.env, identity, providerId, body));
  return jsonResponse({ message }, duplicate ? 200 : 201);
});

supportRoutes.get("/:providerId", async (c) => {
  const providerId = parseOr400(EntityId, c.req.param("providerId"));
  const query = parseOr400(HistoryQuery, c.req.query());
  if (c.var.identity.role === "admin") {
    await recordAdminAccess(c.env.DB, c.var.identity.userId, "support.read", providerId);
  }
  return jsonResponse(
    unwrap(await supportThread(c.env, providerId).history(c.var.identity, providerId, query)),
  );
});
