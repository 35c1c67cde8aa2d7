import { describe, expect, it } from "vitest";
import { FrameBudget } from "../../src/sockets/frame-budget";

/** Any object serves as a socket key: the budget never touches the socket itself. */
const socket = () => ({}) as WebSocket;

describe("the frame budget", () => {
  const limits = { perSecond: 2, burst: 3 };

  it("handles a burst, drops what comes past it, and closes after as many again", () => {
    const budget = new FrameBudget();
    const ws = socket();
    const verdicts = Array.from({ length: 7 }, () => budget.take(ws, limits, 1_000));
    expect(verdicts).toEqual(["handle", "handle", "handle", "drop", "drop", "close", "close"]);
  });

  it("refills with time, so a connection that slows down is handled again", () => {
    const budget = new FrameBudget();
    const ws = socket();
    for (let i = 0; i < 4; i++) budget.take(ws, limits, 0);
    expect(budget.take(ws, limits, 0)).toBe("drop");
    expect(budget.take(ws, limits, 2_000)).toBe("handle");
  });

  it("keeps a bucket per connection, and starts one afresh on reset", () => {
    const budget = new FrameBudget();
    const a = socket();
    const b = socket();
    for (let i = 0; i < 3; i++) budget.take(a, limits, 0);
    expect(budget.take(a, limits, 0)).toBe("drop");
    expect(budget.take(b, limits, 0)).toBe("handle");
    budget.reset(a);
    expect(budget.take(a, limits, 0)).toBe("handle");
  });
});
