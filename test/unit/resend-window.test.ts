import { describe, expect, it } from "vitest";
import { RESEND_WINDOW, ResendWindow } from "../../src/conversation/resend-window";

describe("the resend window", () => {
  it("finds a sender's client message id among recent messages, per sender", () => {
    const window = new ResendWindow();
    window.load([
      { seq: 1, senderId: "alice", clientMessageId: "a-1" },
      { seq: 2, senderId: "bob", clientMessageId: "a-1" },
      { seq: 3, senderId: "alice", clientMessageId: null },
    ]);
    expect(window.find("alice", "a-1", 3)).toBe(1);
    expect(window.find("bob", "a-1", 3)).toBe(2);
    expect(window.find("alice", "missing", 3)).toBeNull();
  });

  it("forgets what has fallen out of the window", () => {
    const window = new ResendWindow();
    window.load([{ seq: 1, senderId: "alice", clientMessageId: "old" }]);
    expect(window.find("alice", "old", RESEND_WINDOW)).toBe(1);
    expect(window.find("alice", "old", RESEND_WINDOW + 1)).toBeNull();
  });

  it("stays bounded as messages keep coming", () => {
    const window = new ResendWindow();
    window.load([]);
    const total = 5 * RESEND_WINDOW;
    for (let seq = 1; seq <= total; seq++) window.add({ seq, senderId: "alice", clientMessageId: `m${seq}` });
    expect(window.find("alice", `m${total}`, total)).toBe(total);
    expect(window.find("alice", `m${total - RESEND_WINDOW + 1}`, total)).toBe(total - RESEND_WINDOW + 1);
    expect(window.find("alice", "m1", total)).toBeNull();
  });

  it("must be loaded again after forgetting", () => {
    const window = new ResendWindow();
    window.load([{ seq: 1, senderId: "alice", clientMessageId: "x" }]);
    window.forget();
    expect(window.isLoaded).toBe(false);
    expect(window.find("alice", "x", 1)).toBeNull();
  });
});
