import { app } from "./app";

export { AdminFeed } from "./admin-feed/feed";
export { BookingRoom } from "./booking-room/room";
export { SocketIoHub } from "./socket-io/hub";
export { SupportThread } from "./support/thread";
export { UserInbox } from "./user-inbox/inbox";

export default app satisfies ExportedHandler<Env>;
