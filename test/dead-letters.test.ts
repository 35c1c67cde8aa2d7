import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { bookingRoom } from "../src/rooms";
import { api } from "./helpers/api";
import { settleD1 } from "./helpers/d1";
import { activeChat } from "./helpers/flow";
import { joined } from "./helpers/socket";

/** D1 refuses one message by its content (a real refusal, as the outbox tests inject an outage). */
async function poisonInD1(content: string) {
  const trigger = `poison_${crypto.randomUUID().replaceAll("-", "")}`;
  await env.DB.exec(
    `CREATE TRIGGER ${trigger} BEFORE INSERT ON messages WHEN NEW.content = '${content}' BEGIN SELECT RAISE(ABORT, 'injected bad row'); END;`,
  );
  return () => env.DB.exec(`DROP TRIGGER ${trigger}`);
}

async function d1Seqs(bookingId: string): Promise<number[]> {
  const { results } = await env.DB.prepare(
    "SELECT seq FROM messages WHERE chat_type = 'booking' AND conversation_id = ? ORDER BY seq",
  )
    .bind(bookingId)
    .all<{ seq: number }>();
  return results.map((r) => r.seq);
}

describe("a message that a consumer refuses for good", () => {
  it("is set aside as a dead letter, visible to admins and on /health, and everything after it is copied", async () => {
    const chat = await activeChat();
    const room = bookingRoom(env, chat.bookingId);
    const poison = `poison-${chat.bookingId}`;
    const cure = await poisonInD1(poison);
    const customer = await joined(chat.bookingId, chat.customer, chat.customerToken);
    for (const message of ["one", poison, "three", "four"]) {
      customer.send("booking-chat", { bookingId: chat.bookingId, chatToken: chat.customerToken, message });
      await customer.expect("booking-chat");
    }
    const healthBefore = (await api("GET", "/health")).body as { deadLetters: number };

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
      listed.body as { deadLetters: { source: string; consumer: string; position: string; error: string }[] }
    ).deadLetters;
    expect(letters.find((l) => l.source === `booking:${chat.bookingId}`)).toMatchObject({
      consumer: "d1",
      position: "seq 2",
      error: expect.stringContaining("injected bad row"),
    });
    expect((await api("GET", "/chat/admin/dead-letters", { jwt: chat.customer.jwt })).status).toBe(403);
    const health = (await api("GET", "/health")).body as { deadLetters: number };
    expect(health.deadLetters).toBe(healthBefore.deadLetters + 1);
    await cure();
    customer.close();
  });

  it("is not confused with an outage: while D1 refuses everything, nothing is set aside", async () => {
    const chat = await activeChat();
    const room = bookingRoom(env, chat.bookingId);
    const trigger = `outage_${chat.bookingId.replaceAll("-", "")}`;
    await env.DB.exec(
      `CREATE TRIGGER ${trigger} BEFORE INSERT ON messages WHEN NEW.conversation_id = '${chat.bookingId}' BEGIN SELECT RAISE(ABORT, 'injected outage'); END;`,
    );
    // The whole conversation is refused, and so is any probe of it: the trigger stands for D1 being down.
    await env.DB.exec(
      `CREATE TRIGGER ${trigger}_probe BEFORE INSERT ON dead_letters WHEN NEW.source = 'booking:${chat.bookingId}' BEGIN SELECT RAISE(ABORT, 'injected outage'); END;`,
    );
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
    await env.DB.exec(`DROP TRIGGER ${trigger}; DROP TRIGGER ${trigger}_probe;`);
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
