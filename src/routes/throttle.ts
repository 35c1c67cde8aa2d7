import { ApiError } from "../errors";

/** The period of every `[[ratelimits]]` binding in wrangler.toml, in seconds. */
const PERIOD_SECONDS = 60;

/**
 * Counts one use of `key` against a Workers Rate Limiting binding; over the limit, answers 429
 * `rate_limited` with `Retry-After` (the binding says only yes or no, so the hint is its period).
 */
export async function throttle(limiter: RateLimit, key: string, what: string): Promise<void> {
  const { success } = await limiter.limit({ key });
  if (success) return;
  throw new ApiError(429, "rate_limited", `Too many ${what}; try again in a minute`, {
    "Retry-After": String(PERIOD_SECONDS),
  });
}
