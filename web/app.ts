// The try-it page: signs in as a development user and drives the whole booking flow through the
// client SDK's typed calls. Development only: it depends on POST /dev/token, which production does not serve.

import { type BookingChat, ChatClientError } from "../sdk/src";
import type { Booking, ChatSummary, Message } from "../src/protocol";
import { $, describe, el, notice, time } from "./dom";
import { forgetSession, type Role, restoreSession, type Session, signIn } from "./session";
import { closedMessage, holdsToken, isClosed, providerSteps, stateOf, summaryOf } from "./states";

let session: Session | null = null;
let chat: BookingChat | null = null;
let openBookingId: string | null = null;
let readBy = 0;
/** Bumped by every openChat, so a slower earlier call never draws into the current pane. */
let generation = 0;
/** A list entry: a party's chat summary, or for admins a booking, which also names both parties. */
type Entry = ChatSummary & Partial<Pick<Booking, "customerId" | "providerId" | "createdAt">>;
const summaries = new Map<string, Entry>();
const LIST_REFRESH_MS = 3_000;

async function start(next: Session): Promise<void> {
  session = next;
  notice(null);
  document.body.classList.add("signed-in");
  $("whoami-name").textContent =
    `${next.userId} · ${next.role === "service_provider" ? "provider" : next.role}`;
  $("customer-tools").hidden = next.role !== "customer";
  $("admin-tools").hidden = next.role !== "admin";
  $("list-title").textContent = next.role === "admin" ? "All bookings" : "My chats";
  // An admin's tools appear once the live feed is connected, so no change is missed.
  if (next.role === "admin") await watchFeed(next);
  else listenToInbox(next);
  $("app").hidden = false;
  // Parties learn of a new booking only from the list (no event names it before payment); an admin's
  // feed brings every change, and each listing is an audited look, so admins list on demand.
  if (next.role !== "admin") setInterval(() => void refreshBookings(), LIST_REFRESH_MS);
  await refreshBookings();
}

function listenToInbox({ client }: Session): void {
  const inbox = client.inbox();
  for (const event of [
    "chat-token-received",
    "booking-accepted",
    "booking-accepted-provider",
    "chatroom-ready",
    "chat-terminated",
    "booking-chat-notification",
  ] as const) {
    inbox.on(event, (data) => {
      void refreshBookings();
      // Before the chat opens, the open pane reloads on each step; afterwards its own socket says it all.
      const reopen = event !== "booking-chat-notification" && (event !== "chat-terminated" || chat === null);
      if (reopen && data.bookingId === openBookingId) void openChat(data.bookingId);
    });
  }
}

function watchFeed({ client }: Session): Promise<void> {
  const feed = client.adminFeed();
  const add = (text: string) => {
    const li = el("li", "", text);
    li.dataset.testid = "feed-item";
    $("feed").prepend(li);
  };
  feed.on("booking-updated", ({ action, booking }) => {
    add(`${time(booking.updatedAt)} · booking ${booking.id} ${action}`);
    summaries.set(booking.id, summaryOf(booking));
    renderBookings();
    if (booking.id === openBookingId) showSteps(booking);
  });
  feed.on("booking-chat", (m) => add(`${time(m.createdAt)} · ${m.senderId}: ${m.content}`));
  feed.on("support-chat", (m) => add(`${time(m.createdAt)} · support ${m.providerId}: ${m.content}`));
  return feed.ready;
}

/** Parties list their chats; admins list every booking, from the admin search over D1. */
async function refreshBookings(): Promise<void> {
  if (!session) return;
  try {
    if (session.role === "admin") {
      const { bookings } = await session.client.api.adminBookings({ query: { limit: 50 } });
      for (const b of bookings) {
        const known = summaries.get(b.id);
        // The live feed may already know a newer state than D1's copy.
        if (!known || known.lastActivityAt <= b.updatedAt) summaries.set(b.id, summaryOf(b));
      }
    } else {
      const { chats } = await session.client.api.myChats();
      for (const c of chats) summaries.set(c.bookingId, c);
    }
    renderBookings();
  } catch (error) {
    notice(`Could not load the list: ${describe(error)}`);
  }
}

/** Admins: newest booking first; parties: most recent activity first, as my-chats orders them. */
const newestFirst = (a: Entry, b: Entry) =>
  session?.role === "admin"
    ? (b.createdAt ?? "").localeCompare(a.createdAt ?? "")
    : b.lastActivityAt.localeCompare(a.lastActivityAt);

function renderBookings(): void {
  const list = $("bookings");
  if (summaries.size === 0) {
    const empty = session?.role === "admin" ? "No bookings yet" : "No chats yet";
    list.replaceChildren(el("li", "empty", empty));
    return;
  }
  list.replaceChildren(
    ...[...summaries.values()].sort(newestFirst).map((s) => {
      const li = el("li", s.bookingId === openBookingId ? "selected" : "");
      li.dataset.testid = "booking-item";
      li.dataset.bookingId = s.bookingId;
      const state = stateOf(s);
      const heading = s.customerId
        ? `${s.customerId} → ${s.providerId}`
        : (s.lastMessage?.content ?? "No messages yet");
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
      li.addEventListener("click", () => void openChat(s.bookingId));
      return li;
    }),
  );
}

function renderMessage(m: Message): void {
  const mine = m.senderId === session?.userId;
  const li = el("li", `message${mine ? " mine" : ""}`);
  li.dataset.testid = "message";
  li.dataset.seq = String(m.seq);
  const sentAt = el("span", "time", time(m.createdAt));
  sentAt.dataset.testid = "message-time";
  li.append(
    el("span", "sender", mine ? "" : `${m.senderId} · ${m.senderRole}`),
    el("span", "text", m.content),
    sentAt,
  );
  $("messages").append(li);
  if (mine && m.isRead) readBy = Math.max(readBy, m.seq);
  renderReadMarks();
  $("messages").scrollTop = $("messages").scrollHeight;
}

/** Own messages the other party has read get a double tick. */
function renderReadMarks(): void {
  for (const li of $("messages").querySelectorAll<HTMLElement>(".message.mine")) {
    const read = Number(li.dataset.seq) <= readBy;
    const sentAt = li.querySelector(".time");
    if (!sentAt) continue;
    sentAt.textContent = `${sentAt.textContent?.replace(/ ✓✓$/, "") ?? ""}${read ? " ✓✓" : ""}`;
    li.dataset.read = String(read);
  }
}

/** Only the next steps that make sense for this booking, for whoever may take them. */
function showSteps(b: Booking): void {
  const steps = providerSteps(b);
  const show = (container: string, action: string, visible: boolean) => {
    const button = $(container).querySelector<HTMLElement>(`[data-action="${action}"]`);
    if (button) button.hidden = !visible;
  };
  show("provider-actions", "accept", steps.accept);
  show("provider-actions", "start", steps.start);
  show("provider-actions", "complete", steps.complete);
  show("admin-actions", "payment", !isClosed(b) && b.paymentStatus !== "paid_to_escrow");
  show("admin-actions", "complete", !isClosed(b) && b.providerAccepted);
  show("admin-actions", "cancel", !isClosed(b));
}

function setLive(live: boolean, label: string, kind: string): void {
  $("chat-state").textContent = label;
  $("chat-state").className = `badge ${kind}`;
  const admin = session?.role === "admin";
  const canWrite = live && !admin;
  const input = $<HTMLInputElement>("message");
  input.disabled = !canWrite;
  input.placeholder = admin
    ? "Admins watch chats read-only"
    : live
      ? "Write a message"
      : kind === "closed"
        ? "This chat is closed"
        : "The chat opens once the booking is paid and accepted";
  $<HTMLButtonElement>("send-button").disabled = !canWrite;
}

function showClosed(message: string, booking: Booking | null): void {
  setLive(false, booking ? stateOf(booking).label : "Closed", "closed");
  if (booking) showSteps(booking);
  else for (const button of document.querySelectorAll<HTMLElement>(".steps button")) button.hidden = true;
  const li = el("li", "system", message);
  li.dataset.testid = "chat-closed";
  $("messages").append(li);
}

async function openChat(bookingId: string): Promise<void> {
  if (!session) return;
  const { client, role } = session;
  const mine = ++generation;
  const stale = () => mine !== generation;
  chat?.close();
  chat = null;
  openBookingId = bookingId;
  readBy = 0;
  document.body.classList.add("chat-open");
  renderBookings();
  $<HTMLInputElement>("admin-booking").value = bookingId;
  $("chat-title").textContent = `Booking ${bookingId}`;
  $("copy-id").hidden = false;
  $("messages").replaceChildren();
  $("presence").hidden = true;
  $("typing").hidden = true;
  $("provider-actions").hidden = role !== "service_provider";
  try {
    const { booking } = await client.api.getBooking({ params: { id: bookingId } });
    if (stale()) return;
    const state = stateOf(booking);
    showSteps(booking);
    setLive(false, state.label, state.kind);
    // Before the viewer's token exists there is nothing to read yet, and asking for it would be a 404.
    if (!holdsToken(role, booking)) return;
    const asAdmin = role === "admin";
    const chatToken = asAdmin
      ? undefined
      : (await client.api.chatToken({ params: { id: bookingId } })).chatToken;
    const page = await client.booking(bookingId, { asAdmin, chatToken }).history({ limit: 50 });
    if (stale()) return;
    for (const m of page.messages) renderMessage(m);
    if (isClosed(booking)) return showClosed(closedMessage(booking), booking);
    const last = page.messages.at(-1)?.seq ?? 0;
    const resumed = client.booking(bookingId, { asAdmin, chatToken, sinceSeq: last });
    chat = resumed;
    resumed.on("booking-chat", (m) => {
      renderMessage(m);
      if (m.senderId !== session?.userId && !asAdmin) resumed.markRead(m.seq);
    });
    resumed.on("messages-read", ({ seq }) => {
      readBy = Math.max(readBy, seq);
      renderReadMarks();
    });
    resumed.on("chatroom-ready", () => setLive(true, "Live", "live"));
    resumed.on("presence", ({ online }) => showPresence(online));
    resumed.on("typing", ({ userId, isTyping }) => showTyping(userId, isTyping));
    resumed.on("chat-terminated", ({ message }) => {
      void client.api.getBooking({ params: { id: bookingId } }).then(
        (latest) => !stale() && showClosed(message, latest.booking),
        () => !stale() && showClosed(message, null),
      );
    });
    const joined = await resumed.connect();
    if (stale()) return resumed.close();
    setLive(joined.chatActive, state.label, state.kind);
    const lastFromOther = page.messages.filter((m) => m.senderId !== session?.userId).at(-1);
    if (lastFromOther && !asAdmin) resumed.markRead(lastFromOther.seq);
  } catch (error) {
    if (stale()) return;
    if (error instanceof ChatClientError && error.code === "chat_terminated") {
      const latest = await client.api.getBooking({ params: { id: bookingId } }).catch(() => null);
      showClosed(latest ? closedMessage(latest.booking) : "This chat is closed", latest?.booking ?? null);
    } else notice(describe(error));
  }
}

/** The other party's dot: online (joined to this chat now) or away. Admins watch unlisted. */
function showPresence(online: { userId: string; role: string }[]): void {
  const others = online.filter((o) => o.userId !== session?.userId);
  const badge = $("presence");
  badge.hidden = false;
  badge.className = `presence ${others.length > 0 ? "online" : "away"}`;
  badge.textContent =
    others.length > 0 ? `${others.map((o) => o.userId).join(", ")} online` : "Nobody else here";
}

/** "… is typing…" under the messages while the other party types (the SDK ends it after 6 s). */
function showTyping(userId: string, isTyping: boolean): void {
  const line = $("typing");
  line.hidden = !isTyping;
  line.textContent = isTyping ? `${userId} is typing…` : "";
}

function closeChat(): void {
  generation++;
  chat?.close();
  chat = null;
  openBookingId = null;
  document.body.classList.remove("chat-open");
  renderBookings();
}

/** The booking an admin acts on: the open one, or a full id (or a unique start of one) typed in. */
function adminTarget(): string | null {
  const typed = $<HTMLInputElement>("admin-booking").value.trim();
  if (!typed) return null;
  const matches = [...summaries.keys()].filter((id) => id.startsWith(typed));
  return summaries.has(typed) ? typed : matches.length === 1 ? (matches[0] ?? typed) : typed;
}

/** Each step a button can take, and the route that takes it. */
const STEP_ROUTES = {
  payment: "confirmPayment",
  accept: "acceptBooking",
  start: "startJob",
  complete: "completeJob",
  cancel: "cancelBooking",
} as const;
type Step = keyof typeof STEP_ROUTES;

async function act(step: Step, bookingId: string): Promise<void> {
  if (!session) return;
  try {
    await session.client.api[STEP_ROUTES[step]]({ params: { id: bookingId } });
    notice(null);
    await refreshBookings();
    // A closing step is shown by the chat's own socket; everything else reloads the pane.
    if (bookingId === openBookingId && ((step !== "complete" && step !== "cancel") || !chat))
      await openChat(bookingId);
  } catch (error) {
    notice(describe(error));
  }
}

$("signin").addEventListener("submit", async (event) => {
  event.preventDefault();
  const role = $<HTMLSelectElement>("role").value as Role;
  try {
    await start(await signIn(role, $<HTMLInputElement>("user").value.trim()));
  } catch (error) {
    notice(`Could not sign in: ${error instanceof Error ? error.message : String(error)}`);
  }
});

$("signout").addEventListener("click", () => {
  forgetSession();
  location.reload();
});

$("notice-close").addEventListener("click", () => notice(null));

$("new-booking").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!session) return;
  try {
    const providerId = $<HTMLInputElement>("provider-id").value.trim();
    const { booking } = await session.client.api.createBooking({ body: { providerId } });
    summaries.set(booking.id, summaryOf(booking));
    await refreshBookings();
    await openChat(booking.id);
  } catch (error) {
    notice(describe(error));
  }
});

$("message").addEventListener("input", () => {
  chat?.typing($<HTMLInputElement>("message").value.trim() !== "");
});

$("composer").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = $<HTMLInputElement>("message");
  const text = input.value;
  if (!chat || !text.trim()) return;
  input.value = "";
  chat.typing(false);
  try {
    await chat.send(text);
  } catch (error) {
    notice(describe(error));
  }
});

$("provider-actions").addEventListener("click", (event) => {
  const action = (event.target as HTMLElement).dataset.action as Step | undefined;
  if (action && openBookingId) void act(action, openBookingId);
});

$("admin-actions").addEventListener("click", (event) => {
  const action = (event.target as HTMLElement).dataset.action;
  if (!action) return;
  const bookingId = adminTarget();
  if (!bookingId) return notice("Pick a booking from the list (or paste its full id) first.");
  if (action === "watch") void openChat(bookingId);
  else void act(action as Step, bookingId);
});

$("copy-id").addEventListener("click", () => {
  if (openBookingId) void navigator.clipboard?.writeText(openBookingId).catch(() => {});
});

$("back").addEventListener("click", closeChat);

$("refresh").addEventListener("click", () => void refreshBookings());

const restored = restoreSession();
if (restored) void start(restored);
else forgetSession();
