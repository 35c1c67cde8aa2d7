// The chat list: a party's chats, or every booking for an admin, one row each.

import type { Booking, ChatSummary } from "../src/protocol";
import { el } from "./dom";
import { previewOf, stateOf } from "./states";

/** A list entry: a party's chat summary, or for admins a booking, which also names both parties. */
export type Entry = ChatSummary & Partial<Pick<Booking, "customerId" | "providerId" | "createdAt">>;

/** The party of this chat who is not `me`, if the entry names them. */
export function otherParty(s: Pick<Entry, "customerId" | "providerId">, me: string): string | null {
  if (!s.customerId || !s.providerId) return null;
  return s.customerId === me ? s.providerId : s.customerId;
}

/** Admins: newest booking first; parties: most recent activity first, as my-chats orders them. */
const newestFirst = (admin: boolean) => (a: Entry, b: Entry) =>
  admin
    ? (b.createdAt ?? "").localeCompare(a.createdAt ?? "")
    : b.lastActivityAt.localeCompare(a.lastActivityAt);

/** Draws the list into `list`; a click on a row opens that chat. */
export function renderBookings(
  list: HTMLElement,
  entries: Iterable<Entry>,
  {
    admin,
    me,
    selected,
    open,
  }: { admin: boolean; me: string; selected: string | null; open: (bookingId: string) => void },
): void {
  const sorted = [...entries].sort(newestFirst(admin));
  if (sorted.length === 0) {
    list.replaceChildren(el("li", "empty", admin ? "No bookings yet" : "No chats yet"));
    return;
  }
  list.replaceChildren(
    ...sorted.map((s) => {
      const li = el("li", s.bookingId === selected ? "selected" : "");
      li.dataset.testid = "booking-item";
      li.dataset.bookingId = s.bookingId;
      const state = stateOf(s);
      // Named by the other party (admins: both); the last message, or the id, below.
      const other = otherParty(s, me);
      const heading = admin && s.customerId ? `${s.customerId} → ${s.providerId}` : (other ?? s.bookingId);
      const title = el("div", "title", heading);
      title.dataset.testid = "booking-party";
      const badges = el("div", "badges");
      if (s.unreadCount > 0) {
        const unread = el("span", "unread", String(s.unreadCount));
        unread.dataset.testid = "unread";
        badges.append(unread);
      }
      const badge = el("span", `badge ${state.kind}`, state.label);
      badge.dataset.testid = "booking-state";
      badges.append(badge);
      const text = el("div", "text");
      const detail = admin ? s.bookingId : s.lastMessage ? previewOf(s.lastMessage) : "No messages yet";
      const id = el("div", "meta", detail);
      id.dataset.testid = "booking-id";
      id.title = s.bookingId;
      text.append(title, id);
      li.append(text, badges);
      li.addEventListener("click", () => open(s.bookingId));
      return li;
    }),
  );
}
