import { describe, expect, it } from "vitest";
import { flushDelayMs, retryDelayMs } from "../../src/conversation/backoff";

describe("retry backoff", () => {
  it("doubles from about a second, drawing each delay from the upper half of its range", () => {
    expect(retryDelayMs(1, () => 0)).toBe(500);
    expect(retryDelayMs(1, () => 1)).toBe(1_000);
    expect(retryDelayMs(2, () => 0)).toBe(1_000);
    expect(retryDelayMs(3, () => 1)).toBe(4_000);
    for (let failures = 1; failures < 12; failures++) {
      expect(retryDelayMs(failures + 1, () => 0.5)).toBeGreaterThanOrEqual(retryDelayMs(failures, () => 0.5));
    }
  });

  it("never waits more than five minutes, however long the outage", () => {
    expect(retryDelayMs(50, () => 1)).toBe(300_000);
    expect(retryDelayMs(1_000_000, () => 0)).toBe(150_000);
  });

  it("spreads the alarm after a write over 1.5 to 2.5 seconds", () => {
    expect(flushDelayMs(() => 0)).toBe(1_500);
    expect(flushDelayMs(() => 1)).toBe(2_500);
  });
});
