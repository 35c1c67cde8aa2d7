import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { bookingRoom } from "../src/rooms";
import { api } from "./helpers/api";
import { d1Seqs, refuseInsertsInD1, settleD1 } from "./helpers/d1";
import { activeChat } from "./helpers/flow";
import { joined } from "./helpers/socket";

describe("a message that a consumer refuses for good", () => {
  it("is set aside as a dead letter, visible to admins (also on /health) and everything after it is copied", async () => {
    const chat = await activeChat();
    const room = bookingRoom(env, chat.bookingId);
    const poison = `poison-${chat.bookingId}`;
    // D1 refuses this one message by its content (a real refusal, where the outbox tests inject an outage).
    const cure = await refuseInsertsInD1("messages", `NEW.content = '${poison}'`, "injected bad row");
    const customer = await joined(chat.bookingId, chat.customer, chat.customerToken);
    for (const message of ["one", poison, "three", "four"]) {
      customer.send("booking-chat", { bookingId: chat.bookingId, chatToken: chat.customerToken, message });
      await customer.expect("booking-chat");
    }
    // /health counts dead letters for admins only.
    const healthBefore = (await api("GET", "/health", { jwt: chat.admin.jwt })).body as {
      deadLetters: number;
    };

    await vi.waitUntil(
      async () => {
        await settleD1(room).catch(() => {});
        return (await d1Seqs(chat.bookingId)).length === 3;
      },
      { timeout: 10_000, interval: 50 },
    );
    expect(await d1Seqs(chat.bookingId)).toEqual([1, 3, 4]);

    const listed = await api("GET", "/chat/admin/dead-letters", { jwt: chat.admin.jwt });
    expect(listed.status, listed.text).toBe(200);
    const letters = (
      listed.body as {
        deadLetters: { id: number; source: string; consumer: string; position: string; error: string }[];
      }
    ).deadLetters;
    expect(letters.find((l) => l.source === `booking:${chat.bookingId}`)).toMatchObject({
      consumer: "d1",
      position: "seq 2",
      error: expect.stringContaining("injected bad row"),
    });
    expect((await api("GET", "/chat/admin/dead-letters", { jwt: chat.customer.jwt })).status).toBe(403);
    const health = (await api("GET", "/health", { jwt: chat.admin.jwt })).body as { deadLetters: number };
    expect(health.deadLetters).toBe(healthBefore.deadLetters + 1);
    // Anyone sees that something needs an admin, not what.
    expect((await api("GET", "/health")).body).toEqual({ ok: true, status: "degraded", problems: [] });

    // Retrying while D1 still refuses it changes nothing; once the cause is fixed it goes through.
    const letter = letters.find((l) => l.source === `booking:${chat.bookingId}`) ?? { id: 0 };
    // The room answers a refusal rather than throwing it: a thrown query error would carry the
    // message's text (drizzle lists the bound values) into the runtime's exception log.
    const direct = await room.retryD1Copy("seq 2");
    expect(direct).toMatchObject({ ok: false, refusal: { code: "unavailable" } });
    expect(JSON.stringify(direct)).toContain("injected bad row");
    expect(JSON.stringify(direct)).not.toContain(poison);
    const refused = await api("POST", `/chat/admin/dead-letters/${letter.id}/retry`, { jwt: chat.admin.jwt });
    expect(refused.status, refused.text).toBe(503);
    await cure();
    const retried = await api("POST", `/chat/admin/dead-letters/${letter.id}/retry`, { jwt: chat.admin.jwt });
    expect(retried.status, retried.text).toBe(200);
    expect(retried.body).toMatchObject({ deadLetter: { resolution: "retried", resolvedBy: chat.admin.id } });
    expect(await d1Seqs(chat.bookingId)).toEqual([1, 2, 3, 4]);
    const again = await api("POST", `/chat/admin/dead-letters/${letter.id}/discard`, { jwt: chat.admin.jwt });
    expect(again.status).toBe(409);
    const after = (await api("GET", "/health", { jwt: chat.admin.jwt })).body;
    expect(after).toMatchObject({ status: "ok", deadLetters: healthBefore.deadLetters });
    const audit = await api("GET", `/chat/admin/audit?adminId=${chat.admin.id}`, { jwt: chat.admin.jwt });
    expect(JSON.stringify(audit.body)).toContain("dead-letters.retry");
    customer.close();
  });

  it("can be discarded by an admin when it is not a D1 copy, which cannot be retried", async () => {
    const chat = await activeChat();
    const { meta } = await env.DB.prepare(
      "INSERT INTO dead_letters (source, consumer, position, error, payload, created_at) VALUES (?, 'feed:0/3', 'seq 1', 'gone', NULL, ?)",
    )
      .bind(`booking:${chat.bookingId}`, new Date().toISOString())
      .run();
    const id = meta.last_row_id;
    const retry = await api("POST", `/chat/admin/dead-letters/${id}/retry`, { jwt: chat.admin.jwt });
    expect(retry.status).toBe(409);
    expect(
      (await api("POST", `/chat/admin/dead-letters/${id}/discard`, { jwt: chat.customer.jwt })).status,
    ).toBe(403);
    const discarded = await api("POST", `/chat/admin/dead-letters/${id}/discard`, { jwt: chat.admin.jwt });
    expect(discarded.status, discarded.text).toBe(200);
    expect(discarded.body).toMatchObject({ deadLetter: { id, resolution: "discarded" } });
    expect(
      (await api("POST", "/chat/admin/dead-letters/999999999/discard", { jwt: chat.admin.jwt })).status,
    ).toBe(404);
  });

  it("is not confused with an outage: while D1 refuses everything, nothing is set aside", async () => {
    const chat = await activeChat();
    const room = bookingRoom(env, chat.bookingId);
    // The whole conversation is refused, and so is any probe of it: the triggers stand for D1 being down.
    const repairs = [
      await refuseInsertsInD1("messages", `NEW.conversation_id = '${chat.bookingId}'`, "injected outage"),
      await refuseInsertsInD1("dead_letters", `NEW.source = 'booking:${chat.bookingId}'`, "injected outage"),
    ];
    const customer = await joined(chat.bookingId, chat.customer, chat.customerToken);
    for (const message of ["a", "b"]) {
      customer.send("booking-chat", { bookingId: chat.bookingId, chatToken: chat.customerToken, message });
      await customer.expect("booking-chat");
    }
    await settleD1(room).catch(() => {});
    expect(await d1Seqs(chat.bookingId)).toEqual([]);
    const { results } = await env.DB.prepare("SELECT * FROM dead_letters WHERE source = ?")
      .bind(`booking:${chat.bookingId}`)
      .all();
    expect(results).toEqual([]);
    for (const repair of repairs) await repair();
    await vi.waitUntil(
      async () => {
        await settleD1(room).catch(() => {});
        return (await d1Seqs(chat.bookingId)).length === 2;
      },
      { timeout: 10_000, interval: 50 },
    );
    customer.close();
  });
});
