import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { BookingRoom } from "../src/booking-room/room";
import { inboxStub } from "../src/delivery/targets";
import type { ChatSummary } from "../src/protocol";
import { MAX_ROOMS_ASKED } from "../src/user-inbox/my-chats";
import { api } from "./helpers/api";
import { newProvider } from "./helpers/users";

describe("GET /chat/my-chats asks a bounded number of rooms", () => {
  it("asks at most MAX_ROOMS_ASKED open chats' rooms, the most recently changed, and shows the rest as stored", async () => {
    const provider = await newProvider();
    const open = MAX_ROOMS_ASKED + 10;
    const inbox = inboxStub(env, { userId: provider.id, role: "provider" });
    for (let i = 0; i < open; i++) {
      const bookingId = `bound-${provider.id}-${String(i).padStart(3, "0")}`;
      const summary: ChatSummary = {
        bookingId,
        status: "confirmed",
        chatActive: true,
        lastMessage: null,
        unreadCount: 0,
        lastActivityAt: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
      };
      await inbox.deliver(`booking:${bookingId}`, [
        { stream: "events", at: 1, frames: [], summary: JSON.stringify(summary) },
      ]);
    }
    const asked: string[] = [];
    const summary = BookingRoom.prototype.summary;
    BookingRoom.prototype.summary = async function (this: BookingRoom, ...args) {
      asked.push("asked");
      return summary.apply(this, args);
    };
    try {
      const res = await api("GET", "/chat/my-chats", { jwt: provider.jwt });
      expect(res.status, res.text).toBe(200);
      expect(asked).toHaveLength(MAX_ROOMS_ASKED);
      // The rooms asked know no such booking (these were filed by hand), so only the rest are listed:
      // the oldest ten, from what the inbox stored.
      const chats = (res.body as { chats: ChatSummary[] }).chats;
      expect(chats.map((c) => c.bookingId)).toEqual(
        Array.from({ length: 10 }, (_, i) => `bound-${provider.id}-${String(9 - i).padStart(3, "0")}`),
      );
    } finally {
      BookingRoom.prototype.summary = summary;
    }
  });
});
