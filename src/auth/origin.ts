import type { MiddlewareHandler } from "hono";
import { getConfig } from "../config";
import { ApiError } from "../errors";
import type { AppEnv } from "./authenticate";

/**
 * Browsers send `Origin` on WebSocket upgrades, and WebSockets have no CORS: without this check
 * any site could open a socket with a JWT it got hold of. When ALLOWED_ORIGINS is set, a browser
 * upgrade must come from one of those exact origins; clients without `Origin` (apps) are unaffected.
 */
export const requireAllowedOrigin: MiddlewareHandler<AppEnv> = async (c, next) => {
  const allowed = getConfig(c.env).allowedOrigins;
  const origin = c.req.header("Origin");
  if (allowed && origin !== undefined && !allowed.includes(origin)) {
    throw new ApiError(403, "origin_not_allowed", "This origin may not open sockets here");
  }
  await next();
};
