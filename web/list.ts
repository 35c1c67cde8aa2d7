// The chat list: a party's chats, or every booking for an admin, one row each.

import type { Booking, ChatSummary } from "../src/protocol";
import { el } from "./dom";
import { previewOf, stateOf } from "./states";

/** A list entry: a party's chat summary, or for admins a booking, which also names both parties. */
export type Entry = ChatSummary & Partial<Pick<Booking, "customerId" | "providerId" | "createdAt">>;

/** Admins: newest booking first; parties: most recent activity first, as my-chats orders them. */
const newestFirst = (admin: boolean) => (a: Entry, b: Entry) =>
  admin
    ? (b.createdAt ?? "").localeCompare(a.createdAt ?? "")
    : b.lastActivityAt.localeCompare(a.lastActivityAt);

/** Draws the list into `list`; a click on a row opens that chat. */
export function renderBookings(
  list: HTMLElement,
  entries: Iterable<Entry>,
  { admin, selected, open }: { admin: boolean; selected: string | null; open: (bookingId: string) => void },
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
      const heading = s.customerId
        ? `${s.customerId} → ${s.providerId}`
        : s.lastMessage
          ? previewOf(s.lastMessage)
          : "No messages yet";
      const title = el("div", "title", heading);
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
      const id = el("div", "meta", s.bookingId);
      id.dataset.testid = "booking-id";
      text.append(title, id);
      li.append(text, badges);
      li.addEventListener("click", () => open(s.bookingId));
      return li;
    }),
  );
}
