import { app } from "./app";
import { runRetention } from "./retention/run";

export { AdminFeed } from "./admin-feed/feed";
export { BookingRoom } from "./booking-room/room";
export { UserErasure } from "./data-requests/erasure";
export { SocketIoHub } from "./socket-io/hub";
export { SupportThread } from "./support/thread";
export { UserInbox } from "./user-inbox/inbox";

export default {
  fetch: app.fetch,
  /** The cron (wrangler.toml `[triggers]`): the retention job. */
  scheduled: (_controller, env, ctx) => {
    ctx.waitUntil(runRetention(env));
  },
} satisfies ExportedHandler<Env>;
