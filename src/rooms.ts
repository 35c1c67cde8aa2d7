/** The booking's room: one Durable Object per booking id, wherever the request comes from. */
export function bookingRoom(env: Env, bookingId: string) {
  return env.BOOKING_ROOM.get(env.BOOKING_ROOM.idFromName(bookingId));
}
