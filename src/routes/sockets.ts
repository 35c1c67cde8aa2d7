import { Hono } from "hono";
import { type AppEnv, requireSocketUser } from "../auth/authenticate";
import { requireAllowedOrigin } from "../auth/origin";
import { bookingRoom } from "../rooms";
import { withIdentity } from "../sockets/identity-header";
import { bookingIdParam } from "../validation";

/** `GET /bookings/:id/ws`: authenticated here, authorized and accepted by the booking's room. */
export const socketRoutes = new Hono<AppEnv>();

socketRoutes.get("/:id/ws", requireAllowedOrigin, requireSocketUser, async (c) => {
  const room = bookingRoom(c.env, bookingIdParam(c));
  return room.fetch(withIdentity(c.req.raw, c.var.identity));
});
