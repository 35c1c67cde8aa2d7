import { Hono } from "hono";
import { type AppEnv, requireUser } from "../auth/authenticate";
import { requireAdmin } from "../auth/require-admin";
import { database } from "../db/client";
import { listSupportThreads } from "../db/support-threads";
import { ApiError, unwrap } from "../errors";
import { EntityId, HistoryQuery, SupportMessageBody } from "../protocol";
import { CUSTOMERS_CANNOT_CHAT } from "../support/thread";
import { supportThread } from "../support/thread-stub";
import { jsonBody, parseOr400 } from "../validation";

/** Support chat between each provider and the admins (chatType `admin`). */
export const supportRoutes = new Hono<AppEnv>();

supportRoutes.use("*", requireUser);

// A provider starts or continues its own thread.
supportRoutes.post("/messages", async (c) => {
  const { identity } = c.var;
  if (identity.role === "customer") throw new ApiError(403, "forbidden", CUSTOMERS_CANNOT_CHAT);
  if (identity.role !== "provider") {
    throw new ApiError(403, "forbidden", "Admins reply with POST /chat/support/{providerId}/messages");
  }
  const body = await jsonBody(c, SupportMessageBody);
  const message = unwrap(await supportThread(c.env, identity.userId).post(identity, identity.userId, body));
  return c.json({ message }, 201);
});

supportRoutes.get("/", requireAdmin, async (c) => {
  return c.json({ threads: await listSupportThreads(database(c.env.DB)) });
});

supportRoutes.post("/:providerId/messages", async (c) => {
  const { identity } = c.var;
  if (identity.role === "customer") throw new ApiError(403, "forbidden", CUSTOMERS_CANNOT_CHAT);
  if (identity.role !== "admin")
    throw new ApiError(403, "forbidden", "Providers write with POST /chat/support/messages");
  const providerId = parseOr400(EntityId, c.req.param("providerId"));
  const body = await jsonBody(c, SupportMessageBody);
  const message = unwrap(await supportThread(c.env, providerId).post(identity, providerId, body));
  return c.json({ message }, 201);
});

supportRoutes.get("/:providerId", async (c) => {
  const providerId = parseOr400(EntityId, c.req.param("providerId"));
  const query = parseOr400(HistoryQuery, c.req.query());
  return c.json(unwrap(await supportThread(c.env, providerId).history(c.var.identity, providerId, query)));
});
