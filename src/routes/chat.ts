import { recordAdminAccess } from "../db/admin-audit";
import { unwrap } from "../errors";
import { jsonTextResponse } from "../json-response";
import { ChatToken } from "../protocol";
import { bookingRoom } from "../rooms";
import { myChatsJson } from "../user-inbox/my-chats";
import { parseOr400 } from "../validation";
import type { RouteHandlers } from "./serve";

/** Chat over HTTP: your own chat token, message history, your chats. */
export const chatHandlers = {
  myChats: async (c, { identity }) => jsonTextResponse(await myChatsJson(c.env, identity)),
  chatToken: async (c, { identity, params }) => ({
    body: unwrap(await bookingRoom(c.env, params.id).chatToken(identity)),
  }),
  history: async (c, { identity, params, query }) => {
    // An empty header is no token: a party is refused for it (403), an admin needs none.
    const header = c.req.header("X-Chat-Token");
    const chatToken = header === undefined || header === "" ? null : parseOr400(ChatToken, header);
    if (identity.role === "admin") {
      await recordAdminAccess(c.env.DB, identity.userId, "booking.history", params.id);
    }
    return jsonTextResponse(unwrap(await bookingRoom(c.env, params.id).history(identity, chatToken, query)));
  },
} satisfies Partial<RouteHandlers>;
