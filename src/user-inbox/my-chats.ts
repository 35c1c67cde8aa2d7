import type { Identity } from "../auth/jwt";
import { inboxStub } from "../delivery/targets";
import { describeError } from "../log";
import { bookingRoom } from "../rooms";
import { MAX_CHATS } from "./chat-list";

/**
 * Open chats whose rooms one request asks at most: the most recently active by their last change.
 * Beyond that, an open chat shows the summary stored at its last lifecycle change.
 */
export const MAX_ROOMS_ASKED = 50;

/**
 * The body of `GET /chat/my-chats`: the user's chats, newest activity first. Chats that were not
 * open at their last change keep the summary their room sent then; an open chat's summary moves
 * with every message, so its room is asked now (derived from its log and read cursors), for at
 * most MAX_ROOMS_ASKED of them. If a room cannot answer, its stored summary stands in.
 */
export async function myChatsJson(env: Env, identity: Identity): Promise<string> {
  const { stored, live: open } = await inboxStub(env, identity).storedChats();
  const lastChange = new Map(stored.map((row) => [row.bookingId, row.lastActivityAt]));
  const live = [...open]
    .sort((a, b) => ((lastChange.get(a) ?? "") < (lastChange.get(b) ?? "") ? 1 : -1))
    .slice(0, MAX_ROOMS_ASKED);
  const liveIds = new Set(live);
  const rows = stored.filter((row) => !liveIds.has(row.bookingId));
  const fresh = await Promise.all(
    live.map(async (bookingId) => {
      try {
        const summary = await bookingRoom(env, bookingId).summary(identity);
        return summary ? { bookingId, lastActivityAt: summary.lastActivityAt, summary: summary.json } : null;
      } catch (error) {
        console.error("my-chats: a room did not answer", describeError(error));
        return stored.find((row) => row.bookingId === bookingId) ?? null;
      }
    }),
  );
  const chats = [...rows, ...fresh.filter((row) => row !== null)]
    .sort((a, b) => (a.lastActivityAt < b.lastActivityAt ? 1 : a.lastActivityAt > b.lastActivityAt ? -1 : 0))
    .slice(0, MAX_CHATS);
  return `{"chats":[${chats.map((row) => row.summary).join(",")}]}`;
}
