import { getConfig } from "./config";
import { type LocationHint, locationHintFor } from "./placement/location-hint";
import { objects } from "./placement/namespaces";

/** The booking's room: one Durable Object per booking id, wherever the request comes from. */
export function bookingRoom(env: Env, bookingId: string, locationHint?: LocationHint) {
  const rooms = objects(env, "BOOKING_ROOM");
  return rooms.get(rooms.idFromName(bookingId), locationHint ? { locationHint } : {});
}

/**
 * The room a new booking is created in, placed near the request that creates it (a hint only
 * counts when the object is first created; after that the room is wherever it lives).
 */
export function newBookingRoom(env: Env, bookingId: string, cf: unknown) {
  return bookingRoom(env, bookingId, locationHintFor(cf, getConfig(env).jurisdiction));
}
