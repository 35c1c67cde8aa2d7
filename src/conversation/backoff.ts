const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 5 * 60_000;

/**
 * How long a failing consumer waits before its next try: doubling from 1 s up to 5 minutes, each
 * delay drawn from its upper half, so consumers that failed together do not retry together.
 */
export function retryDelayMs(failures: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.min(Math.max(failures, 1) - 1, 20));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

const FLUSH_DELAY_MS = 2_000;

/**
 * How long after a write the alarm runs the batched work (the D1 copy, recording positions). D1 is
 * a copy for reporting and admin search, so about two seconds of lag buy batches; spread over
 * ±25% so that conversations which got busy together do not all flush at the same moment (the
 * benchmark saw 100 aligned rooms stall the runtime for ~100 ms).
 */
export function flushDelayMs(random: () => number = Math.random): number {
  return Math.round(FLUSH_DELAY_MS * (0.75 + random() / 2));
}
