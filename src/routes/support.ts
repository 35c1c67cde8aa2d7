import { recordAdminAccess } from "../db/admin-audit";
import { d1Shards } from "../db/shards";
import { listSupportThreads } from "../db/support-threads";
import { ApiError, unwrap } from "../errors";
import { jsonTextResponse } from "../json-response";
import { CUSTOMERS_CANNOT_CHAT } from "../support/thread";
import { postSupportMessage, supportThread } from "../support/thread-stub";
import type { RouteHandlers } from "./serve";

/** Support chat between each provider and the admins (chatType `admin`). */
export const supportHandlers = {
  // A provider starts or continues its own thread.
  supportSend: async (c, { identity, body }) => {
    if (identity.role === "customer") throw new ApiError("forbidden", CUSTOMERS_CANNOT_CHAT);
    if (identity.role !== "provider") {
      throw new ApiError("forbidden", "Admins reply with POST /chat/support/{providerId}/messages");
    }
    const posted = unwrap(await postSupportMessage(c.env, identity, identity.userId, await body()));
    return jsonTextResponse(`{"message":${posted.messageJson}}`, posted.duplicate ? 200 : 201);
  },
  supportReply: async (c, { identity, params, body }) => {
    if (identity.role === "customer") throw new ApiError("forbidden", CUSTOMERS_CANNOT_CHAT);
    if (identity.role !== "admin")
      throw new ApiError("forbidden", "Providers write with POST /chat/support/messages");
    const posted = unwrap(await postSupportMessage(c.env, identity, params.providerId, await body()));
    return jsonTextResponse(`{"message":${posted.messageJson}}`, posted.duplicate ? 200 : 201);
  },
  supportThreads: async (c, { identity }) => {
    await recordAdminAccess(c.env.DB, identity.userId, "support.list", "all");
    return Response.json({ threads: await listSupportThreads(d1Shards(c.env)) });
  },
  supportHistory: async (c, { identity, params, query }) => {
    if (identity.role === "admin") {
      await recordAdminAccess(c.env.DB, identity.userId, "support.read", params.providerId);
    }
    const thread = supportThread(c.env, params.providerId);
    return jsonTextResponse(unwrap(await thread.history(identity, params.providerId, query)));
  },
} satisfies Partial<RouteHandlers>;
