import { Hono } from "hono";
import { type AppEnv, requireUser } from "../auth/authenticate";
import { recordAdminAccess } from "../db/admin-audit";
import { unwrap } from "../errors";
import { jsonResponse } from "../json-response";
import { ChatToken, HistoryQuery } from "../protocol";
import { bookingRoom } from "../rooms";
import { myChatsJson } from "../user-inbox/my-chats";
import { bookingIdParam, parseOr400 } from "../validation";
import { limitReads } from "./throttle";

/** Chat over HTTP: your own chat token, and message history. */
export const chatRoutes = new Hono<AppEnv>();

chatRoutes.use("*", requireUser, limitReads);

chatRoutes.get("/my-chats", async (c) => {
  const body = await myChatsJson(c.env, c.var.identity);
  return new Response(body, { headers: { "Content-Type": "application/json" } });
});

chatRoutes.get("/booking/:id/token", async (c) => {
  return c.json(unwrap(await bookingRoom(c.env, bookingIdParam(c)).chatToken(c.var.identity)));
});

chatRoutes.get("/booking/:id", async (c) => {
  const bookingId = bookingIdParam(c);
  const query = parseOr400(HistoryQuery, c.req.query());
  // An empty header is no token: a party is refused for it (403), an admin needs none.
  const header = c.req.header("X-Chat-Token");
  const chatToken = header === undefined || header === "" ? null : parseOr400(ChatToken, header);
  if (c.var.identity.role === "admin") {
    await recordAdminAccess(c.env.DB, c.var.identity.userId, "booking.history", bookingId);
  }
  return jsonResponse(unwrap(await bookingRoom(c.env, bookingId).history(c.var.identity, chatToken, query)));
});
