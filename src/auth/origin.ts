import type { Context, MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { getConfig } from "../config";
import { ApiError } from "../errors";
import type { AppEnv } from "./authenticate";

/**
 * Whether a browser page at `origin` may use this service: its own origin always; the origins
 * listed in ALLOWED_ORIGINS; when none are listed, any in development and no other in production.
 */
export function originAllowed(c: Context<AppEnv>, origin: string): boolean {
  if (origin === "") return false;
  if (origin === new URL(c.req.url).origin) return true;
  const { allowedOrigins, environment } = getConfig(c.env);
  if (allowedOrigins) return allowedOrigins.includes(origin);
  return environment === "development";
}

/**
 * Browsers send `Origin` on WebSocket upgrades, and WebSockets have no CORS: without this check
 * any site could open a socket with a JWT it got hold of. Clients without `Origin` (apps) are
 * unaffected.
 */
export const requireAllowedOrigin: MiddlewareHandler<AppEnv> = async (c, next) => {
  const origin = c.req.header("Origin");
  if (origin !== undefined && !originAllowed(c, origin)) {
    throw new ApiError("origin_not_allowed", "This origin may not open sockets here");
  }
  await next();
};

/** CORS for the HTTP API, for the same origins as the sockets; others get no CORS headers at all. */
export const corsForAllowedOrigins: MiddlewareHandler<AppEnv> = cors({
  // A misconfigured deployment answers with no CORS headers; the route itself reports the problem.
  origin: (origin, c) => {
    try {
      return originAllowed(c, origin) ? origin : null;
    } catch {
      return null;
    }
  },
  allowMethods: ["GET", "POST", "OPTIONS"],
  allowHeaders: ["Authorization", "Content-Type", "X-Chat-Token", "X-Signature"],
  exposeHeaders: ["Retry-After", "WWW-Authenticate"],
  maxAge: 600,
});
