import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { REPLAY_LIMIT } from "../src/protocol";
import { bookingRoom } from "../src/rooms";
import { type ActiveChat, activeChat } from "./helpers/flow";
import { joined } from "./helpers/socket";

/** Writes `count` messages straight into the room's log, as if the customer had sent them. */
async function fill(chat: ActiveChat, count: number) {
  const room = bookingRoom(env, chat.bookingId);
  await runInDurableObject(room, (_, state) => {
    for (let seq = 1; seq <= count; seq++) {
      state.storage.sql.exec(
        "INSERT INTO messages (seq, id, sender_id, sender_role, content, created_at) VALUES (?, ?, ?, 'customer', ?, ?)",
        seq,
        crypto.randomUUID(),
        chat.customer.id,
        `m${seq} ${"x".repeat(200)}`,
        new Date().toISOString(),
      );
    }
  });
  await evictDurableObject(room);
}

const join = (chat: ActiveChat, sinceSeq: number) => ({
  bookingId: chat.bookingId,
  chatToken: chat.providerToken,
  sinceSeq,
});

describe("a client that asks the room to repeat itself", () => {
  it("gets at most REPLAY_LIMIT messages per join, and continues from replayThrough", async () => {
    const chat = await activeChat();
    await fill(chat, REPLAY_LIMIT + 120);
    const provider = await joined(chat.bookingId, chat.provider, chat.providerToken);
    provider.send("join-booking", join(chat, 0));
    const first = await provider.expect("booking-joined");
    expect(first).toMatchObject({ lastSeq: REPLAY_LIMIT + 120, replayThrough: REPLAY_LIMIT });
    for (let seq = 1; seq <= REPLAY_LIMIT; seq++)
      expect(await provider.expect("booking-chat")).toMatchObject({ seq });
    provider.send("join-booking", join(chat, REPLAY_LIMIT));
    expect(await provider.expect("booking-joined")).toMatchObject({ replayThrough: REPLAY_LIMIT + 120 });
    for (let seq = REPLAY_LIMIT + 1; seq <= REPLAY_LIMIT + 120; seq++) {
      expect(await provider.expect("booking-chat")).toMatchObject({ seq });
    }
    await provider.barrier();
    expect(provider.pending()).toEqual([]);
    provider.close();
  });

  it("rate-limits joins, so a hundred replays of the history cost a few", async () => {
    const chat = await activeChat();
    await fill(chat, 300);
    const provider = await joined(chat.bookingId, chat.provider, chat.providerToken);
    for (let i = 0; i < 100; i++) provider.send("join-booking", join(chat, 0));
    await vi.waitUntil(
      () =>
        provider.received.filter((f) => f.event === "booking-joined" || f.event === "chat-error").length >=
        100,
      { timeout: 15_000 },
    );
    const replayed = provider.received.filter((f) => f.event === "booking-chat").length;
    const refused = provider.all("chat-error").filter((e) => e.code === "rate_limited");
    // The first join above and at most a burst of five more replays; the rest are refused with a retry hint.
    expect(replayed).toBeLessThanOrEqual(6 * 300);
    expect(refused.length).toBeGreaterThanOrEqual(90);
    expect(refused[0]?.retryAfterMs).toBeGreaterThan(0);
    provider.close();
  });
});
