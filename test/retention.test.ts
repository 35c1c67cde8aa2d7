import { evictDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { d1ShardOf } from "../src/db/shards";
import { ArchivesResponse, HistoryResponse } from "../src/protocol";
import { archiveExpired } from "../src/retention/archive";
import { bookingRoom } from "../src/rooms";
import { api } from "./helpers/api";
import { ageMessages, archivedLines } from "./helpers/archives";
import { d1Of, d1Seqs, sendAndSettle } from "./helpers/d1";
import { type ActiveChat, activeChat } from "./helpers/flow";

// This file runs with D1_RETENTION_DAYS=30 (vitest.config.ts).
const DAY = 24 * 60 * 60 * 1000;
/** With 30 days' retention, everything sent today has expired by then. */
const IN_31_DAYS = Date.now() + 31 * DAY;

async function history(chat: ActiveChat) {
  const res = await api("GET", `/chat/booking/${chat.bookingId}`, { jwt: chat.admin.jwt });
  expect(res.status, res.text).toBe(200);
  return HistoryResponse.parse(res.body).messages.map((m) => m.content);
}

describe("retention: D1 keeps D1_RETENTION_DAYS, R2 keeps the rest", () => {
  it("archives expired messages as NDJSON per shard and day, and deletes exactly those from D1", async () => {
    // A booking in each shard.
    const chats: ActiveChat[] = [];
    while (new Set(chats.map((c) => d1ShardOf(c.bookingId, 2))).size < 2) chats.push(await activeChat());
    for (const chat of chats) await sendAndSettle(chat, ["one", "two", "three"]);
    // A message D1 holds that has not expired: it stays.
    const young = new Date(IN_31_DAYS).toISOString();
    await env.DB.prepare(
      "INSERT INTO messages (chat_type, conversation_id, seq, id, sender_id, sender_role, content, created_at) VALUES ('booking', 'young', 1, 'y1', 'u', 'customer', 'stays', ?)",
    )
      .bind(young)
      .run();

    const report = await archiveExpired(env, IN_31_DAYS);
    const cutoffDay = new Date(IN_31_DAYS - 30 * DAY).toISOString().slice(0, 10);
    expect(report.cutoff).toBe(`${cutoffDay}T00:00:00.000Z`);
    expect(report.archived).toBeGreaterThanOrEqual(3 * chats.length);

    const today = new Date().toISOString().slice(0, 10);
    for (const chat of chats) {
      expect(await d1Seqs(chat.bookingId)).toEqual([]);
      const lines = await archivedLines(chat.bookingId);
      expect(lines.map((l) => [l.seq, l.content, l.senderId])).toEqual([
        [1, "one", chat.customer.id],
        [2, "two", chat.customer.id],
        [3, "three", chat.customer.id],
      ]);
      const shard = d1ShardOf(chat.bookingId, 2);
      for (const line of lines)
        expect(line.key).toMatch(new RegExp(`^messages/${today}/shard-${shard}/.+\\.ndjson$`));
      // The room still has the whole history.
      expect(await history(chat)).toEqual(["one", "two", "three"]);
    }
    const stays = await env.DB.prepare(
      "SELECT content FROM messages WHERE conversation_id = 'young'",
    ).first();
    expect(stays).toEqual({ content: "stays" });

    // Admins list the archive objects of the day, and search says where D1's history starts.
    const admin = chats[0]?.admin.jwt ?? "";
    const listed = ArchivesResponse.parse(
      (await api("GET", `/chat/admin/archives?day=${today}`, { jwt: admin })).body,
    );
    const keys = new Set(listed.archives.map((a) => a.key));
    for (const chat of chats)
      for (const line of await archivedLines(chat.bookingId)) expect(keys.has(line.key)).toBe(true);
    expect(listed.archives.every((a) => a.day === today && a.messages > 0 && a.size > 0)).toBe(true);
    const search = await api("GET", "/chat/admin/messages?limit=1", { jwt: admin });
    const heldSince = (search.body as { heldSince: string }).heldSince;
    expect(Date.parse(heldSince)).toBeLessThanOrEqual(Date.now() - 30 * DAY);
    expect(Date.parse(heldSince)).toBeGreaterThan(Date.now() - 31 * DAY);
  });

  it("loses and duplicates nothing when it stops between writing an archive and deleting from D1", async () => {
    const chat = await activeChat();
    await sendAndSettle(chat, ["a", "b"]);
    const crash = () => {
      throw new Error("crashed after writing");
    };
    await expect(archiveExpired(env, IN_31_DAYS, { afterWrite: crash })).rejects.toThrow(
      "crashed after writing",
    );
    // Written but not yet deleted: both places hold it.
    expect(await d1Seqs(chat.bookingId)).toEqual([1, 2]);
    expect((await archivedLines(chat.bookingId)).map((l) => l.seq)).toEqual([1, 2]);

    await archiveExpired(env, IN_31_DAYS);
    expect(await d1Seqs(chat.bookingId)).toEqual([]);
    expect((await archivedLines(chat.bookingId)).map((l) => [l.seq, l.content])).toEqual([
      [1, "a"],
      [2, "b"],
    ]);
    expect(await history(chat)).toEqual(["a", "b"]);
  });

  it("never copies an archived message back into D1", async () => {
    const chat = await activeChat();
    await sendAndSettle(chat, ["old 1", "old 2"]);
    await ageMessages(chat.bookingId, 40);
    await archiveExpired(env);
    expect(await d1Seqs(chat.bookingId)).toEqual([]);
    // A woken room asks D1 how far its copy got; D1 no longer holds the archived messages.
    await evictDurableObject(bookingRoom(env, chat.bookingId));
    await sendAndSettle(chat, ["new"]);
    expect(await d1Seqs(chat.bookingId)).toEqual([3]);
    expect((await archivedLines(chat.bookingId)).map((l) => l.seq)).toEqual([1, 2]);
    const row = await d1Of(chat.bookingId)
      .prepare("SELECT count(*) AS n FROM messages WHERE conversation_id = ?")
      .bind(chat.bookingId)
      .first();
    expect(row).toEqual({ n: 1 });
  });
});
