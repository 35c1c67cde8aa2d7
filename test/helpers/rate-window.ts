/** The period of every `[[ratelimits]]` binding in wrangler.toml, in milliseconds. */
const RATE_PERIOD_MS = 60_000;

/**
 * Rate Limiting windows are aligned to the wall clock (locally as in production), so a test that
 * counts a minute's allowance exactly must not straddle a window's end, or it sees two allowances.
 * Waits for the next window when fewer than `neededMs` are left in this one.
 */
export async function inOneRateWindow(neededMs = 15_000): Promise<void> {
  const left = RATE_PERIOD_MS - (Date.now() % RATE_PERIOD_MS);
  if (left < neededMs) await new Promise((resolve) => setTimeout(resolve, left + 50));
}

/** Long enough for a test that may first wait out the rest of a window. */
export const RATE_WINDOW_TEST_TIMEOUT_MS = 45_000;
