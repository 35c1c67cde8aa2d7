import { Hono } from "hono";
import { type AppEnv, requireSocketUser } from "../auth/authenticate";
import { requireAllowedOrigin } from "../auth/origin";
import { inboxStub } from "../delivery/targets";
import { withIdentity } from "../sockets/identity-header";

/** `GET /me/ws`: the caller's inbox socket, any authenticated user. */
export const meRoutes = new Hono<AppEnv>();

meRoutes.get("/ws", requireAllowedOrigin, requireSocketUser, async (c) => {
  const inbox = inboxStub(c.env, c.var.identity);
  return inbox.fetch(withIdentity(c.req.raw, c.var.identity));
});
