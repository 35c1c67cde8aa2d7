import type { Context } from "hono";
import type { AppEnv } from "../auth/authenticate";
import { ChatToken } from "../protocol";
import { parseOr400 } from "../validation";

/** The caller's `X-Chat-Token`; an empty header is no token (a party is refused for it, an admin needs none). */
export function chatTokenHeader(c: Context<AppEnv>): string | null {
  const header = c.req.header("X-Chat-Token");
  return header === undefined || header === "" ? null : parseOr400(ChatToken, header);
}
