import { afterEach, describe, expect, it, vi } from "vitest";
import { LiveState } from "../../sdk/src/live-state";
import { TYPING_EXPIRES_MS } from "../../src/protocol";

afterEach(() => {
  vi.useRealTimers();
});

const typing = (isTyping: boolean) => ({
  bookingId: "b",
  userId: "bob",
  role: "provider" as const,
  isTyping,
});

describe("the SDK's live state", () => {
  it("ends someone's typing by itself when nothing renews it within TYPING_EXPIRES_MS", () => {
    vi.useFakeTimers();
    const heard: boolean[] = [];
    const live = new LiveState((t) => heard.push(t.isTyping));
    live.heardTyping(typing(true));
    vi.advanceTimersByTime(TYPING_EXPIRES_MS - 1);
    live.heardTyping(typing(true));
    vi.advanceTimersByTime(TYPING_EXPIRES_MS - 1);
    expect(heard).toEqual([true, true]);
    vi.advanceTimersByTime(1);
    expect(heard).toEqual([true, true, false]);
    live.heardTyping(typing(true));
    live.heardTyping(typing(false));
    vi.advanceTimersByTime(TYPING_EXPIRES_MS * 2);
    expect(heard).toEqual([true, true, false, true, false]);
  });

  it("says to send typing on a change, and again before the other side's indicator lapses", () => {
    const live = new LiveState(() => {});
    expect(live.shouldSendTyping(false, 0)).toBe(false);
    expect(live.shouldSendTyping(true, 0)).toBe(true);
    expect(live.shouldSendTyping(true, 1_000)).toBe(false);
    expect(live.shouldSendTyping(true, TYPING_EXPIRES_MS / 2)).toBe(true);
    expect(live.shouldSendTyping(false, TYPING_EXPIRES_MS)).toBe(true);
    expect(live.shouldSendTyping(false, TYPING_EXPIRES_MS * 2)).toBe(false);
  });
});
