import { evictDurableObject, runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import {
  EraseResponse,
  type Erasure,
  ErasureResponse,
  ExportLine,
  HistoryResponse,
  type Message,
} from "../src/protocol";
import { archiveExpired } from "../src/retention/archive";
import { bookingRoom } from "../src/rooms";
import { supportThread } from "../src/support/thread-stub";
import { api } from "./helpers/api";
import { ageMessages, archivedLines } from "./helpers/archives";
import { d1Of, settleD1 } from "./helpers/d1";
import { PNG, uploaded } from "./helpers/files";
import { type ActiveChat, activeChat } from "./helpers/flow";
import { joined } from "./helpers/socket";
import { newCustomer, type TestUser } from "./helpers/users";

// This file runs with D1_RETENTION_DAYS=30 (vitest.config.ts), so that some of it is archived.

/** The customer and the provider each say their lines, in turn. */
async function talk(
  chat: ActiveChat,
  lines: { customer?: string; provider?: string; attachments?: string[] }[],
) {
  const customer = await joined(chat.bookingId, chat.customer, chat.customerToken);
  const provider = await joined(chat.bookingId, chat.provider, chat.providerToken);
  for (const line of lines) {
    if (line.customer !== undefined) {
      customer.send("booking-chat", {
        bookingId: chat.bookingId,
        chatToken: chat.customerToken,
        message: line.customer,
        ...(line.attachments ? { attachments: line.attachments } : {}),
      });
      await customer.expect("booking-chat");
    }
    if (line.provider !== undefined) {
      provider.send("booking-chat", {
        bookingId: chat.bookingId,
        chatToken: chat.providerToken,
        message: line.provider,
      });
      await provider.expect("booking-chat");
    }
  }
  customer.close();
  provider.close();
  await settleD1(bookingRoom(env, chat.bookingId));
}

async function exportOf(user: TestUser, admin: TestUser): Promise<ExportLine[]> {
  const res = await api("GET", `/admin/users/${user.id}/export`, { jwt: admin.jwt });
  expect(res.status, res.text).toBe(200);
  expect(res.headers.get("content-type")).toContain("application/x-ndjson");
  return res.text
    .split("\n")
    .filter(Boolean)
    .map((line) => ExportLine.parse(JSON.parse(line)));
}

async function history(chat: ActiveChat): Promise<Message[]> {
  const res = await api("GET", `/chat/booking/${chat.bookingId}`, { jwt: chat.admin.jwt });
  expect(res.status, res.text).toBe(200);
  return HistoryResponse.parse(res.body).messages;
}

/** The erasure once `ready` holds for it (its alarm also runs on its own). */
async function erasureWhen(admin: TestUser, id: string, ready: (e: Erasure) => boolean): Promise<Erasure> {
  let last: Erasure | undefined;
  await vi.waitUntil(
    async () => {
      const res = await api("GET", `/admin/erasures/${id}`, { jwt: admin.jwt });
      last = ErasureResponse.parse(res.body).erasure;
      return ready(last);
    },
    { timeout: 5_000, interval: 20 },
  );
  return last as Erasure;
}

async function audited(admin: TestUser, action: string): Promise<string[]> {
  const res = await api("GET", `/chat/admin/audit?adminId=${admin.id}`, { jwt: admin.jwt });
  return (res.body as { entries: { action: string; target: string }[] }).entries
    .filter((e) => e.action === action)
    .map((e) => e.target);
}

describe("a user's export (GDPR articles 15 and 20)", () => {
  it("holds every booking they are a party of with all its messages, their read positions, and nobody else's", async () => {
    const customer = await newCustomer();
    const first = await activeChat({ customer });
    const second = await activeChat({ customer });
    const stranger = await activeChat({ provider: first.provider });
    await talk(first, [{ customer: "hello", provider: "hi" }, { customer: "see you" }]);
    await talk(second, [{ provider: "on my way" }]);
    await talk(stranger, [{ customer: "not theirs", provider: "nor this" }]);

    const lines = await exportOf(customer, first.admin);
    expect(lines[0]).toMatchObject({ type: "export", userId: customer.id });
    expect(lines.at(-1)).toEqual({ type: "end", bookings: 2, messages: 4 });
    const bookings = lines.flatMap((l) => (l.type === "booking" ? [l] : []));
    expect(bookings.map((b) => [b.booking.id, b.party]).sort()).toEqual(
      [
        [first.bookingId, "customer"],
        [second.bookingId, "customer"],
      ].sort(),
    );
    const messages = lines.flatMap((l) => (l.type === "message" ? [l.message] : []));
    expect(messages.map((m) => m.content).sort()).toEqual(["hello", "hi", "on my way", "see you"]);
    expect(messages.every((m) => m.bookingId !== stranger.bookingId)).toBe(true);
    const reads = lines.flatMap((l) => (l.type === "read" ? [l] : []));
    expect(reads.map((r) => r.bookingId).sort()).toEqual([first.bookingId, second.bookingId].sort());
    expect(JSON.stringify(lines)).not.toContain("not theirs");
    // A room answers only for its parties, whatever asks it.
    expect(await bookingRoom(env, stranger.bookingId).exportPage(customer.id, 0, 10)).toBeNull();

    // A provider's export also holds their support thread.
    await api("POST", "/chat/support/messages", {
      jwt: first.provider.jwt,
      body: { message: "payout question" },
    });
    const provider = await exportOf(first.provider, first.admin);
    expect(
      provider
        .filter((l) => l.type === "support-message")
        .map((l) => l.type === "support-message" && l.message.content),
    ).toEqual(["payout question"]);
    // Their two bookings (three messages and two) and their support thread (one).
    expect(provider.at(-1)).toEqual({ type: "end", bookings: 2, messages: 6 });

    expect(await audited(first.admin, "user.export")).toEqual([first.provider.id, customer.id]);
    const refused = await api("GET", `/admin/users/${customer.id}/export`, { jwt: customer.jwt });
    expect(refused.status).toBe(403);
  });
});

describe("a user's erasure (GDPR article 17)", () => {
  it("empties what they wrote everywhere, keeps the other party's, survives a crash and can be repeated", async () => {
    const chat = await activeChat();
    const photo = await uploaded(chat, chat.customer, PNG());
    await talk(chat, [
      { customer: "call me on +44 7700 900123", provider: "will do" },
      { customer: "here is the sink", attachments: [photo] },
    ]);
    await api("POST", "/chat/support/messages", { jwt: chat.provider.jwt, body: { message: "unrelated" } });
    // The first message is old enough to be in the R2 archive only.
    await ageMessages(chat.bookingId, 40, [1]);
    await archiveExpired(env);
    expect((await archivedLines(chat.bookingId)).map((l) => [l.seq, l.content])).toEqual([
      [1, "call me on +44 7700 900123"],
    ]);
    const photoKey = `bookings/${chat.bookingId}/${photo}`;
    expect(await env.ARCHIVES.head(photoKey)).toBeNull();
    expect(await env.ATTACHMENTS.head(photoKey)).not.toBeNull();

    // D1 is down for writes to messages: the erasure gets as far as the rooms, then waits.
    const shards = [env.DB, env.DB_1];
    for (const shard of shards) {
      await shard.exec(
        "CREATE TRIGGER d1_down BEFORE UPDATE ON messages BEGIN SELECT RAISE(ABORT, 'D1 is down (injected)'); END;",
      );
    }
    const asked = await api("POST", `/admin/users/${chat.customer.id}/erase`, {
      jwt: chat.admin.jwt,
      body: { reason: "GDPR request #12" },
    });
    expect(asked.status, asked.text).toBe(202);
    const { erasure } = EraseResponse.parse(asked.body);
    expect(erasure.status).toBe("pending");
    // Asking again while it runs answers the same erasure.
    const again = await api("POST", `/admin/users/${chat.customer.id}/erase`, {
      jwt: chat.admin.jwt,
      body: { reason: "again" },
    });
    expect(EraseResponse.parse(again.body).erasure.id).toBe(erasure.id);

    // Its alarm runs it (at once, on its own too) until the D1 step fails and is put off.
    const job = env.USER_ERASURE.get(env.USER_ERASURE.idFromName(erasure.id));
    await runDurableObjectAlarm(job);
    const midway = await erasureWhen(chat.admin, erasure.id, (e) => e.progress.roomMessages === 2);
    expect(midway.status).toBe("running");
    await evictDurableObject(job);
    for (const shard of shards) await shard.exec("DROP TRIGGER d1_down");
    await runDurableObjectAlarm(job);

    const done = await erasureWhen(chat.admin, erasure.id, (e) => e.status === "done");
    expect(done).toMatchObject({ status: "done", userId: chat.customer.id, reason: "GDPR request #12" });
    expect(done.progress).toMatchObject({ roomMessages: 2, files: 1, d1Messages: 1, archivedMessages: 1 });
    expect(done.completedAt).not.toBeNull();

    // The room: their messages keep their place, lose their content; the provider's stay.
    const kept = await history(chat);
    expect(kept.map((m) => [m.seq, m.senderId === chat.customer.id, m.content, m.erased ?? false])).toEqual([
      [1, true, "", true],
      [2, false, "will do", false],
      [3, true, "", true],
    ]);
    expect(kept[2]?.attachments).toBeUndefined();
    expect(await env.ATTACHMENTS.head(photoKey)).toBeNull();
    // D1 and the archive alike.
    const d1 = await d1Of(chat.bookingId)
      .prepare(
        "SELECT seq, content, erased_at IS NOT NULL AS erased FROM messages WHERE conversation_id = ? ORDER BY seq",
      )
      .bind(chat.bookingId)
      .all();
    expect(d1.results).toEqual([
      { seq: 2, content: "will do", erased: 0 },
      { seq: 3, content: "", erased: 1 },
    ]);
    const archived = await archivedLines(chat.bookingId);
    expect(archived.map((l) => [l.seq, l.content, l.erasedAt !== null])).toEqual([[1, "", true]]);
    expect(JSON.stringify(await exportOf(chat.customer, chat.admin))).not.toContain("7700");
    // Their inbox is gone; the provider's support thread is untouched.
    const chats = await api("GET", "/chat/my-chats", { jwt: chat.customer.jwt });
    expect((chats.body as { chats: unknown[] }).chats).toEqual([]);
    await settleD1(supportThread(env, chat.provider.id));

    // Repeating it finds nothing left to erase and changes nothing.
    const second = EraseResponse.parse(
      (
        await api("POST", `/admin/users/${chat.customer.id}/erase`, {
          jwt: chat.admin.jwt,
          body: { reason: "again" },
        })
      ).body,
    ).erasure;
    expect(second.id).not.toBe(erasure.id);
    await runDurableObjectAlarm(env.USER_ERASURE.get(env.USER_ERASURE.idFromName(second.id)));
    const repeated = await erasureWhen(chat.admin, second.id, (e) => e.status === "done");
    expect(repeated).toMatchObject({
      progress: { roomMessages: 0, files: 0, d1Messages: 0, archivedMessages: 0 },
    });
    expect((await history(chat)).map((m) => m.content)).toEqual(["", "will do", ""]);
    expect(await audited(chat.admin, "user.erase")).toHaveLength(3);
  });

  it("answers 404 for an unknown erasure and refuses non-admins", async () => {
    const chat = await activeChat();
    const unknown = await api("GET", "/admin/erasures/no-such-erasure", { jwt: chat.admin.jwt });
    expect(unknown.status).toBe(404);
    const refused = await api("POST", `/admin/users/${chat.provider.id}/erase`, {
      jwt: chat.customer.jwt,
      body: { reason: "mine" },
    });
    expect(refused.status).toBe(403);
  });
});
