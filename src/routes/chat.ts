import { recordAdminAccess } from "../db/admin-audit";
import { unwrap } from "../errors";
import { jsonTextResponse } from "../json-response";
import { bookingRoom } from "../rooms";
import { myChatsJson } from "../user-inbox/my-chats";
import { chatTokenHeader } from "./chat-token-header";
import type { RouteHandlers } from "./serve";

/** Chat over HTTP: your own chat token, message history, your chats. */
export const chatHandlers = {
  myChats: async (c, { identity }) => jsonTextResponse(await myChatsJson(c.env, identity)),
  chatToken: async (c, { identity, params }) => ({
    body: unwrap(await bookingRoom(c.env, params.id).chatToken(identity)),
  }),
  history: async (c, { identity, params, query }) => {
    const chatToken = chatTokenHeader(c);
    if (identity.role === "admin") {
      await recordAdminAccess(c.env.DB, identity.userId, "booking.history", params.id);
    }
    return jsonTextResponse(unwrap(await bookingRoom(c.env, params.id).history(identity, chatToken, query)));
  },
} satisfies Partial<RouteHandlers>;
