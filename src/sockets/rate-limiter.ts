type Bucket = { tokens: number; at: number };

/**
 * Token buckets in memory, one per key. They reset when the object is evicted, which only ever
 * errs towards letting a user send again; nothing else depends on them.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  /** Takes a token for `key`, or returns how many ms until one is available. */
  take(
    key: string,
    perSecond: number,
    burst: number,
    now = Date.now(),
  ): { ok: true } | { ok: false; retryAfterMs: number } {
    const bucket = this.buckets.get(key) ?? { tokens: burst, at: now };
    const tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * perSecond);
    if (tokens < 1) {
      this.buckets.set(key, { tokens, at: now });
      return { ok: false, retryAfterMs: Math.ceil(((1 - tokens) / perSecond) * 1000) };
    }
    this.buckets.set(key, { tokens: tokens - 1, at: now });
    if (this.buckets.size > 10_000) this.forgetFull(now, perSecond, burst);
    return { ok: true };
  }

  /** Drops buckets that have refilled completely; they carry no information. */
  private forgetFull(now: number, perSecond: number, burst: number): void {
    for (const [key, b] of this.buckets) {
      if (b.tokens + ((now - b.at) / 1000) * perSecond >= burst) this.buckets.delete(key);
    }
  }
}
