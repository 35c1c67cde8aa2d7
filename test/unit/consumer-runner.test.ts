import { describe, expect, it } from "vitest";
import type { Consumer } from "../../src/conversation/consumer";
import { ConsumerRunner } from "../../src/conversation/consumer-runner";
import { at, type Position } from "../../src/conversation/positions";

/** A consumer over an in-memory log: `head` is its end, each run copies up to it or fails. */
class LogConsumer implements Consumer {
  readonly name = "test";
  readonly batched = false;
  end = 0;
  failing = false;
  runs: number[] = [];
  head(): Position {
    return { messages: this.end };
  }
  async run(from: Position): Promise<Position> {
    this.runs.push(at(from, "messages"));
    if (this.failing) throw new Error("receiver down");
    return { messages: this.end };
  }
}

const start = { at: { messages: 0 }, failures: 0, retryAt: null };

describe("a consumer's runner", () => {
  it("runs at once after a quiet spell, and shares one run among writes within the interval", async () => {
    const consumer = new LogConsumer();
    const runner = new ConsumerRunner(consumer, start, () => {}, 100);
    consumer.end = 1;
    await runner.kick();
    expect(consumer.runs).toEqual([0]);
    consumer.end = 2;
    const second = runner.kick();
    consumer.end = 3;
    const third = runner.kick();
    await Promise.all([second, third]);
    expect(consumer.runs).toEqual([0, 1]);
    expect(at(runner.position, "messages")).toBe(3);
    expect(runner.behind()).toBe(false);
  });

  it("does nothing when there is nothing beyond its position", async () => {
    const consumer = new LogConsumer();
    const runner = new ConsumerRunner(consumer, start, () => {});
    await runner.kick();
    expect(consumer.runs).toEqual([]);
  });

  it("backs off after a failure: writes do not retry it, only a kick after its retry time does", async () => {
    const consumer = new LogConsumer();
    const failures: number[] = [];
    const runner = new ConsumerRunner(consumer, start, (r) => failures.push(r.failures), 0);
    consumer.failing = true;
    consumer.end = 1;
    await runner.kick();
    expect(failures).toEqual([1]);
    expect(at(runner.position, "messages")).toBe(0);
    const retryAt = runner.retryAt ?? 0;
    expect(retryAt).toBeGreaterThan(Date.now());
    consumer.end = 2;
    await runner.kick();
    expect(consumer.runs).toEqual([0]);

    consumer.failing = false;
    await runner.kick({ urgent: true, now: retryAt });
    expect(consumer.runs).toEqual([0, 0]);
    expect(at(runner.position, "messages")).toBe(2);
    expect(runner.stored()).toEqual({ at: { messages: 2 }, failures: 0, retryAt: null });
  });

  it("picks up a stored failure count, so a restart does not reset its backoff", async () => {
    const consumer = new LogConsumer();
    consumer.failing = true;
    consumer.end = 1;
    const runner = new ConsumerRunner(consumer, { ...start, failures: 4, retryAt: null }, () => {}, 0);
    await runner.kick();
    expect(runner.failures).toBe(5);
    expect((runner.retryAt ?? 0) - Date.now()).toBeGreaterThanOrEqual(8_000 - 50);
  });
});
