import { Hono } from "hono";
import { type AppEnv, requireUser } from "../auth/authenticate";
import { requireAllowedOrigin } from "../auth/origin";
import { ApiError } from "../errors";
import { bookingRoom } from "../rooms";
import { withIdentity } from "../sockets/identity-header";
import { bookingIdParam } from "../validation";

/** `GET /bookings/:id/ws`: authenticated here, authorized and accepted by the booking's room. */
export const socketRoutes = new Hono<AppEnv>();

socketRoutes.get("/:id/ws", requireAllowedOrigin, requireUser, async (c) => {
  if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") {
    throw new ApiError(426, "invalid_request", "Expected a WebSocket upgrade", { Upgrade: "websocket" });
  }
  const room = bookingRoom(c.env, bookingIdParam(c));
  return room.fetch(withIdentity(c.req.raw, c.var.identity));
});
