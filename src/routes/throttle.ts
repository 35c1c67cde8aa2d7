import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../auth/authenticate";
import { ApiError, type Refusal, refusal } from "../errors";

/** The period of every `[[ratelimits]]` binding in wrangler.toml, in seconds. */
const PERIOD_SECONDS = 60;

/**
 * Counts one use of `key` against a Workers Rate Limiting binding: null while under the limit, else
 * the `rate_limited` refusal (the binding says only yes or no, so the hint is its period).
 */
export async function overLimit(limiter: RateLimit, key: string, what: string): Promise<Refusal | null> {
  const { success } = await limiter.limit({ key });
  if (success) return null;
  return refusal("rate_limited", `Too many ${what}; try again in a minute`, {
    retryAfterMs: PERIOD_SECONDS * 1000,
  });
}

/** As `overLimit`, for a route: over the limit it answers 429 `rate_limited` with `Retry-After`. */
export async function throttle(limiter: RateLimit, key: string, what: string): Promise<void> {
  const refused = await overLimit(limiter, key, what);
  if (refused) throw ApiError.from(refused);
}

/**
 * After `requireUser`: every read (a GET that is not a socket upgrade) counts against READS_PER_USER
 * for the caller. A page of history is cheap to ask for and costly to answer.
 */
export const limitReads: MiddlewareHandler<AppEnv> = async (c, next) => {
  const upgrade = c.req.header("Upgrade")?.toLowerCase() === "websocket";
  if (c.req.method === "GET" && !upgrade) {
    const { userId, role } = c.var.identity;
    await throttle(c.env.READS_PER_USER, `${role}:${userId}`, "reads");
  }
  await next();
};
