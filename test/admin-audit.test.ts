import { describe, expect, it } from "vitest";
import { api } from "./helpers/api";
import { refuseInsertsInD1 } from "./helpers/d1";
import { activeChat } from "./helpers/flow";
import { adminFeed, connect, joined } from "./helpers/socket";

type Entry = { adminId: string; action: string; target: string; at: string };

async function auditOf(jwt: string, adminId: string): Promise<Entry[]> {
  const res = await api("GET", `/chat/admin/audit?adminId=${adminId}`, { jwt });
  expect(res.status, res.text).toBe(200);
  return (res.body as { entries: Entry[] }).entries;
}

describe("the admin audit trail", () => {
  it("records every look an admin takes at users' conversations: who, what, when", async () => {
    const chat = await activeChat();
    const { admin } = chat;
    await api("GET", `/chat/booking/${chat.bookingId}`, { jwt: admin.jwt });
    const watching = await joined(chat.bookingId, admin);
    watching.close();
    await api("GET", `/chat/admin/messages?bookingId=${chat.bookingId}`, { jwt: admin.jwt });
    (await adminFeed(admin)).close();
    await api("GET", `/chat/support/${chat.provider.id}`, { jwt: admin.jwt });

    const entries = await auditOf(admin.jwt, admin.id);
    const seen = entries.map((e) => `${e.action} ${e.target}`);
    expect(seen).toEqual(
      expect.arrayContaining([
        `booking.history ${chat.bookingId}`,
        `booking.join ${chat.bookingId}`,
        expect.stringMatching(new RegExp(`^messages\\.search .*${chat.bookingId}`)),
        expect.stringMatching(/^feed\.watch shard /),
        `support.read ${chat.provider.id}`,
      ]),
    );
    expect(entries.every((e) => e.adminId === admin.id && !Number.isNaN(Date.parse(e.at)))).toBe(true);
    // Newest first; reading the trail is itself recorded.
    expect((await auditOf(admin.jwt, admin.id))[0]?.action).toBe("audit.read");
  });

  it("is for admins only, and records nothing for the parties' own reading", async () => {
    const chat = await activeChat();
    expect((await api("GET", "/chat/admin/audit", { jwt: chat.customer.jwt })).status).toBe(403);
    await api("GET", `/chat/booking/${chat.bookingId}`, {
      jwt: chat.customer.jwt,
      headers: { "X-Chat-Token": chat.customerToken },
    });
    expect(await auditOf(chat.admin.jwt, chat.customer.id)).toEqual([]);
  });

  it("lets no admin look unrecorded: while the trail cannot be written, access is refused", async () => {
    const chat = await activeChat();
    const { admin } = chat;
    const repair = await refuseInsertsInD1(
      "admin_audit",
      `NEW.admin_id = '${admin.id}'`,
      "injected audit outage",
    );
    try {
      for (const path of [
        `/chat/booking/${chat.bookingId}`,
        `/chat/admin/messages?bookingId=${chat.bookingId}`,
      ]) {
        const res = await api("GET", path, { jwt: admin.jwt });
        expect(res.status, path).toBe(503);
        expect(res.body, path).toMatchObject({ error: { code: "unavailable" } });
        expect(res.headers.get("Retry-After"), path).toBe("5");
      }
      const socket = await connect(chat.bookingId, admin);
      socket.send("join-booking", { bookingId: chat.bookingId });
      expect(await socket.expect("chat-error")).toMatchObject({ code: "unavailable" });
      socket.close();
    } finally {
      await repair();
    }
    expect((await api("GET", `/chat/booking/${chat.bookingId}`, { jwt: admin.jwt })).status).toBe(200);
  });
});
