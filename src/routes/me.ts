import { Hono } from "hono";
import { type AppEnv, requireUser } from "../auth/authenticate";
import { requireAllowedOrigin } from "../auth/origin";
import { inboxStub } from "../delivery/targets";
import { ApiError } from "../errors";
import { withIdentity } from "../sockets/identity-header";

/** `GET /me/ws`: the caller's inbox socket, any authenticated user. */
export const meRoutes = new Hono<AppEnv>();

meRoutes.get("/ws", requireAllowedOrigin, requireUser, async (c) => {
  if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") {
    throw new ApiError(426, "invalid_request", "Expected a WebSocket upgrade", { Upgrade: "websocket" });
  }
  const inbox = inboxStub(c.env, c.var.identity);
  return inbox.fetch(withIdentity(c.req.raw, c.var.identity));
});
