import { Hono } from "hono";
import { type AppEnv, requireUser } from "../auth/authenticate";
import { ApiError, unwrap } from "../errors";
import { BookingAction, CreateBookingBody } from "../protocol";
import { bookingRoom } from "../rooms";
import { bookingIdParam, jsonBody, parseOr400 } from "../validation";
import { paymentRoute } from "./payment";
import { limitReads, throttle } from "./throttle";

/** Booking lifecycle over HTTP. Every change is decided inside the booking's room. */
export const bookingRoutes = new Hono<AppEnv>();

// Payment is confirmed by an admin or by the payment provider's signed webhook, which has no JWT.
bookingRoutes.route("/", paymentRoute);

bookingRoutes.use("*", requireUser, limitReads);

bookingRoutes.post("/", async (c) => {
  if (c.var.identity.role !== "customer")
    throw new ApiError(403, "forbidden", "Only customers can create bookings");
  const body = await jsonBody(c, CreateBookingBody);
  // Both sides: one customer flooding, and many accounts flooding one provider's list of chats.
  await throttle(c.env.BOOKINGS_PER_CUSTOMER, c.var.identity.userId, "bookings");
  await throttle(c.env.BOOKINGS_PER_PROVIDER, body.providerId, "bookings for this provider");
  const bookingId = crypto.randomUUID();
  const booking = unwrap(await bookingRoom(c.env, bookingId).create(bookingId, c.var.identity, body));
  return c.json({ booking }, 201);
});

bookingRoutes.get("/:id", async (c) => {
  const booking = unwrap(await bookingRoom(c.env, bookingIdParam(c)).view(c.var.identity));
  return c.json({ booking });
});

bookingRoutes.post("/:id/:action{accept|decline|start|complete|cancel}", async (c) => {
  const room = bookingRoom(c.env, bookingIdParam(c));
  const action = parseOr400(BookingAction, c.req.param("action"));
  if (action === "accept") return c.json(unwrap(await room.accept(c.var.identity)));
  return c.json({ booking: unwrap(await room.transition(action, c.var.identity)) });
});
