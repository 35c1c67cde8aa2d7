import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { HistoryResponse } from "../src/protocol";
import { bookingRoom } from "../src/rooms";
import { api } from "./helpers/api";
import { d1Of, settleD1 } from "./helpers/d1";
import { activeChat } from "./helpers/flow";
import { forgetSchemaVersion, rewriteAsLegacyRoom } from "./helpers/legacy-room";
import { joined } from "./helpers/socket";

describe("a room stored with an older schema", () => {
  it("keeps its messages, numbering and D1 position when it wakes up with the current one", async () => {
    const chat = await activeChat();
    const room = bookingRoom(env, chat.bookingId);
    await settleD1(room);
    // Five messages, of which D1 already took the first three.
    await runInDurableObject(room, (_, state) => {
      rewriteAsLegacyRoom(state.storage.sql, chat.customer.id, 3, 5);
      forgetSchemaVersion(state.storage);
    });
    await evictDurableObject(room);

    const history = await api("GET", `/chat/booking/${chat.bookingId}`, {
      jwt: chat.admin.jwt,
    });
    expect(history.status, history.text).toBe(200);
    const page = history.body as HistoryResponse;
    expect(page.messages.map((m) => m.content)).toEqual(["old 1", "old 2", "old 3", "old 4", "old 5"]);

    const customer = await joined(chat.bookingId, chat.customer, chat.customerToken);
    customer.send("booking-chat", {
      bookingId: chat.bookingId,
      chatToken: chat.customerToken,
      message: "new",
    });
    expect(await customer.expect("booking-chat")).toMatchObject({ seq: 6, content: "new" });
    // A resend of an old message is still recognised and answered with the stored copy.
    customer.send("booking-chat", {
      bookingId: chat.bookingId,
      chatToken: chat.customerToken,
      message: "old 2, again",
      clientMessageId: "old-client-2",
    });
    expect(await customer.expect("booking-chat")).toMatchObject({ seq: 2, content: "old 2" });

    // D1 receives exactly what it did not have: the two unsynced old messages and the new one.
    await settleD1(room);
    const { results } = await d1Of(chat.bookingId)
      .prepare("SELECT seq FROM messages WHERE conversation_id = ? ORDER BY seq")
      .bind(chat.bookingId)
      .all<{ seq: number }>();
    expect(results.map((r) => r.seq)).toEqual([4, 5, 6]);
    customer.close();
  });
});

/** What migrations 3 (attachments, moderation, freeze) and 4 (erasure) added, taken away again. */
const UNDO_MIGRATIONS_3_AND_4 = [
  "ALTER TABLE messages DROP COLUMN erased_at",
  "DROP TABLE attachments",
  "ALTER TABLE booking DROP COLUMN chat_frozen_at",
  ...["attachments", "contacts", "masked_content", "hidden_at"].map(
    (c) => `ALTER TABLE messages DROP COLUMN ${c}`,
  ),
];

describe("a room stored before the booking's columns had one name each", () => {
  it("wakes up with its booking, tokens and their issue times under the new names", async () => {
    const chat = await activeChat();
    const room = bookingRoom(env, chat.bookingId);
    // As that release stored it: the issue times under their old names, migrations 2 to 4 not run.
    const issued = await runInDurableObject(room, (_, state) => {
      const sql = state.storage.sql;
      const row = sql
        .exec<{ c: string; p: string }>(
          "SELECT customer_chat_token_issued_at AS c, provider_chat_token_issued_at AS p FROM booking",
        )
        .one();
      sql.exec("ALTER TABLE booking RENAME COLUMN customer_chat_token_issued_at TO customer_token_issued_at");
      sql.exec("ALTER TABLE booking RENAME COLUMN provider_chat_token_issued_at TO provider_token_issued_at");
      for (const undo of UNDO_MIGRATIONS_3_AND_4) sql.exec(undo);
      sql.exec(
        "DELETE FROM __drizzle_migrations WHERE created_at >= (SELECT created_at FROM __drizzle_migrations ORDER BY created_at DESC LIMIT 1 OFFSET 2)",
      );
      forgetSchemaVersion(state.storage);
      return row;
    });
    expect(issued.c).not.toBeNull();
    await evictDurableObject(room);

    const customer = await joined(chat.bookingId, chat.customer, chat.customerToken);
    customer.send("booking-chat", {
      bookingId: chat.bookingId,
      chatToken: chat.customerToken,
      message: "still mine",
    });
    expect(await customer.expect("booking-chat")).toMatchObject({ seq: 1, content: "still mine" });
    const kept = await runInDurableObject(room, (_, state) =>
      state.storage.sql
        .exec<{ c: string; p: string }>(
          "SELECT customer_chat_token_issued_at AS c, provider_chat_token_issued_at AS p FROM booking",
        )
        .one(),
    );
    expect(kept).toEqual(issued);
    customer.close();
  });
});
