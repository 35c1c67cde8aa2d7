import { app } from "./app";

export { BookingRoom } from "./booking-room/room";

export default app satisfies ExportedHandler<Env>;
