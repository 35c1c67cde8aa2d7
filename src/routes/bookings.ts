import type { Identity } from "../auth/jwt";
import { ApiError, unwrap } from "../errors";
import type { BookingAction } from "../protocol";
import { bookingRoom, newBookingRoom } from "../rooms";
import { confirmPayment } from "./payment";
import type { RouteHandlers } from "./serve";
import { throttle } from "./throttle";

type Transition = Exclude<BookingAction, "accept">;

/** A lifecycle step by the caller; every change is decided inside the booking's room. */
function transition(action: Transition) {
  return async (c: { env: Env }, input: { identity: Identity; params: { id: string } }) => ({
    body: { booking: unwrap(await bookingRoom(c.env, input.params.id).transition(action, input.identity)) },
  });
}

/** Booking lifecycle over HTTP. */
export const bookingHandlers = {
  createBooking: async (c, { identity, body }) => {
    if (identity.role !== "customer") throw new ApiError("forbidden", "Only customers can create bookings");
    const { providerId, ...rest } = await body();
    // Both sides: one customer flooding, and many accounts flooding one provider's list of chats.
    await throttle(c.env.BOOKINGS_PER_CUSTOMER, identity.userId, "bookings");
    await throttle(c.env.BOOKINGS_PER_PROVIDER, providerId, "bookings for this provider");
    const bookingId = crypto.randomUUID();
    // Placed near the customer, who creates it (request.cf is absent locally: no hint).
    const room = newBookingRoom(c.env, bookingId, c.req.raw.cf);
    return { body: { booking: unwrap(await room.create(bookingId, identity, { providerId, ...rest })) } };
  },
  getBooking: async (c, { identity, params }) => ({
    body: { booking: unwrap(await bookingRoom(c.env, params.id).view(identity)) },
  }),
  confirmPayment,
  acceptBooking: async (c, { identity, params }) => ({
    body: unwrap(await bookingRoom(c.env, params.id).accept(identity)),
  }),
  declineBooking: transition("decline"),
  startJob: transition("start"),
  completeJob: transition("complete"),
  cancelBooking: transition("cancel"),
} satisfies Partial<RouteHandlers>;
