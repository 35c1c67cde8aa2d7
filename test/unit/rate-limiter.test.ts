import { describe, expect, it } from "vitest";
import { RateLimiter } from "../../src/sockets/rate-limiter";

describe("the send rate limiter", () => {
  it("allows a burst, then refuses with the time until the next token", () => {
    const limiter = new RateLimiter();
    for (let i = 0; i < 3; i++) expect(limiter.take("alice", 2, 3, 1_000).ok).toBe(true);
    expect(limiter.take("alice", 2, 3, 1_000)).toEqual({ ok: false, retryAfterMs: 500 });
    expect(limiter.take("alice", 2, 3, 1_500).ok).toBe(true);
  });

  it("keeps a bucket per key", () => {
    const limiter = new RateLimiter();
    expect(limiter.take("alice", 1, 1, 0).ok).toBe(true);
    expect(limiter.take("alice", 1, 1, 0).ok).toBe(false);
    expect(limiter.take("bob", 1, 1, 0).ok).toBe(true);
  });
});
