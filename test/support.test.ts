import { evictDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { SupportHistoryResponse, SupportThreadsResponse } from "../src/protocol";
import { supportThread } from "../src/support/thread-stub";
import { api, field } from "./helpers/api";
import { settleD1 } from "./helpers/d1";
import { parties } from "./helpers/flow";
import { adminFeed, inbox, openSocketAt } from "./helpers/socket";

describe("support chat between a provider and the admins", () => {
  it("lets the provider start a thread and both sides write, live and in history", async () => {
    const { provider, admin } = await parties();
    const providerInbox = await inbox(provider);
    const feed = await adminFeed(admin);

    providerInbox.send("support-chat", { message: "My payout is late", clientMessageId: "s-1" });
    const first = await providerInbox.expect("support-chat");
    expect(first).toMatchObject({
      providerId: provider.id,
      seq: 1,
      senderId: provider.id,
      senderRole: "provider",
      content: "My payout is late",
      chatType: "admin",
      clientMessageId: "s-1",
    });
    expect(await feed.expect("support-chat")).toEqual(first);

    const reply = await api("POST", `/chat/support/${provider.id}/messages`, {
      jwt: admin.jwt,
      body: { message: "Looking into it" },
    });
    expect(reply.status).toBe(201);
    expect(field(reply.body, "message")).toMatchObject({ seq: 2, senderRole: "admin", senderId: admin.id });
    expect(await providerInbox.expect("support-chat")).toMatchObject({ seq: 2, content: "Looking into it" });
    expect(await feed.expect("support-chat")).toMatchObject({ seq: 2 });

    const again = await api("POST", "/chat/support/messages", {
      jwt: provider.jwt,
      body: { message: "Thanks" },
    });
    expect(again.status).toBe(201);
    expect(await providerInbox.expect("support-chat")).toMatchObject({ seq: 3, senderRole: "provider" });

    for (const reader of [provider, admin]) {
      const res = await api("GET", `/chat/support/${provider.id}?limit=2`, { jwt: reader.jwt });
      const page = SupportHistoryResponse.parse(res.body);
      expect(page.messages.map((m) => [m.seq, m.senderRole])).toEqual([
        [2, "admin"],
        [3, "provider"],
      ]);
      expect(page.nextBefore).toBe(2);
    }

    await settleD1(supportThread(env, provider.id));
    const threads = SupportThreadsResponse.parse(
      (await api("GET", "/chat/support", { jwt: admin.jwt })).body,
    );
    expect(threads.threads.find((t) => t.providerId === provider.id)).toMatchObject({
      messageCount: 3,
      lastMessage: { seq: 3, content: "Thanks" },
    });
    providerInbox.close();
    feed.close();
  });

  it("answers a resent clientMessageId with the stored message and stores nothing new", async () => {
    const { provider } = await parties();
    const body = { message: "once", clientMessageId: "same" };
    const first = await api("POST", "/chat/support/messages", { jwt: provider.jwt, body });
    const second = await api("POST", "/chat/support/messages", { jwt: provider.jwt, body });
    expect(first.status).toBe(201);
    expect(second.status).toBe(200);
    expect(field(second.body, "message")).toEqual(field(first.body, "message"));
    // Over the inbox socket too: the resend is answered with the stored copy.
    const providerInbox = await inbox(provider);
    providerInbox.send("support-chat", body);
    expect(await providerInbox.expect("support-chat")).toEqual(field(first.body, "message"));
    providerInbox.close();
    const history = SupportHistoryResponse.parse(
      (await api("GET", `/chat/support/${provider.id}`, { jwt: provider.jwt })).body,
    );
    expect(history.messages).toHaveLength(1);
  });

  it("does not let an admin open a thread the provider has not started", async () => {
    const { provider, admin } = await parties();
    const res = await api("POST", `/chat/support/${provider.id}/messages`, {
      jwt: admin.jwt,
      body: { message: "Hello?" },
    });
    expect(res.status).toBe(409);
    expect(field(res.body, "error", "code")).toBe("thread_not_started");
    const own = await api("POST", "/chat/support/messages", { jwt: admin.jwt, body: { message: "x" } });
    expect(own.status).toBe(403);
  });

  it("keeps customers out of support chat and the admin feed", async () => {
    const { customer, provider } = await parties();
    const refusals = [
      await api("POST", "/chat/support/messages", { jwt: customer.jwt, body: { message: "hi" } }),
      await api("POST", `/chat/support/${provider.id}/messages`, {
        jwt: customer.jwt,
        body: { message: "hi" },
      }),
      await api("GET", `/chat/support/${provider.id}`, { jwt: customer.jwt }),
    ];
    for (const res of refusals) {
      expect(res.status).toBe(403);
      expect(res.body).toEqual({
        error: { code: "forbidden", message: "Customers cannot chat with admin directly" },
      });
    }
    const customerInbox = await inbox(customer);
    customerInbox.send("support-chat", { message: "let me in" });
    expect(await customerInbox.expect("chat-error")).toEqual({
      code: "forbidden",
      message: "Customers cannot chat with admin directly",
    });
    customerInbox.close();

    for (const user of [customer, provider]) {
      const { socket, response } = await openSocketAt("/admin/ws", user);
      expect(socket).toBeNull();
      expect(response.status).toBe(403);
      expect((await api("GET", "/chat/support", { jwt: user.jwt })).status).toBe(403);
      expect((await api("GET", "/chat/admin/messages", { jwt: user.jwt })).status).toBe(403);
    }
    // Another provider's thread is not yours.
    const other = await parties();
    expect((await api("GET", `/chat/support/${provider.id}`, { jwt: other.provider.jwt })).status).toBe(403);
  });

  it("validates support messages", async () => {
    const { provider } = await parties();
    for (const [body, code] of [
      [{ message: " " }, "message_empty"],
      [{ message: "x".repeat(4001) }, "message_too_long"],
      [{ message: 1 }, "invalid_request"],
      [{ message: "ok", extra: true }, "invalid_request"],
    ] as const) {
      const res = await api("POST", "/chat/support/messages", { jwt: provider.jwt, body });
      expect(res.status).toBe(400);
      expect(field(res.body, "error", "code")).toBe(code);
    }
  });

  it("keeps serving after the thread object is evicted", async () => {
    const { provider, admin } = await parties();
    const providerInbox = await inbox(provider);
    await api("POST", "/chat/support/messages", { jwt: provider.jwt, body: { message: "first" } });
    await providerInbox.expect("support-chat");
    await evictDurableObject(supportThread(env, provider.id));
    const reply = await api("POST", `/chat/support/${provider.id}/messages`, {
      jwt: admin.jwt,
      body: { message: "after eviction" },
    });
    expect(reply.status).toBe(201);
    expect(await providerInbox.expect("support-chat")).toMatchObject({ seq: 2, content: "after eviction" });
    providerInbox.close();
  });
});
