import { describe, expect, it } from "vitest";
import type { DeliveryItem } from "../../src/delivery/items";
import { SeenPositions } from "../../src/delivery/seen";
import { feedShardOf } from "../../src/delivery/targets";

const message = (seq: number): DeliveryItem => ({
  stream: "messages",
  at: seq,
  frames: [{ frame: `m${seq}` }],
});
const event = (id: number): DeliveryItem => ({
  stream: "events",
  at: id,
  frames: [{ frame: `e${id}` }],
  summary: null,
});
const read = (seq: number): DeliveryItem => ({
  stream: "customerReads",
  at: seq,
  frames: [{ frame: `r${seq}` }],
});

describe("a receiver's seen positions", () => {
  it("passes each message, event and read receipt of a source once, in order", () => {
    const seen = new SeenPositions();
    expect(seen.fresh("booking:b", [message(1), event(1), message(2)])).toEqual([
      message(1),
      event(1),
      message(2),
    ]);
    // A sender that restarted sends the batch again, plus what is new.
    expect(seen.fresh("booking:b", [message(1), event(1), message(2), read(2), message(3)])).toEqual([
      read(2),
      message(3),
    ]);
    expect(seen.fresh("booking:b", [read(1), read(2)])).toEqual([]);
  });

  it("keeps sources apart", () => {
    const seen = new SeenPositions();
    seen.fresh("booking:a", [message(1), message(2)]);
    expect(seen.fresh("booking:b", [message(1)])).toEqual([message(1)]);
  });

  it("remembers at most ten thousand sources, forgetting the one heard from longest ago", () => {
    const seen = new SeenPositions();
    seen.fresh("first", [message(1)]);
    for (let i = 0; i < 10_000; i++) seen.fresh(`source-${i}`, [message(1)]);
    expect(seen.fresh("first", [message(1)])).toEqual([message(1)]);
    expect(seen.fresh("source-9999", [message(1)])).toEqual([]);
  });
});

describe("admin feed shards", () => {
  it("put a conversation on the same shard every time, within range", () => {
    for (const shards of [1, 3, 4, 16]) {
      for (const key of ["b-1", "support:p-1", crypto.randomUUID()]) {
        const shard = feedShardOf(key, shards);
        expect(shard).toBe(feedShardOf(key, shards));
        expect(shard).toBeGreaterThanOrEqual(0);
        expect(shard).toBeLessThan(shards);
      }
    }
  });

  it("spread bookings evenly", () => {
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4_000; i++) {
      const shard = feedShardOf(crypto.randomUUID(), 4);
      counts[shard] = (counts[shard] ?? 0) + 1;
    }
    for (const count of counts) expect(count).toBeGreaterThan(850);
  });
});
