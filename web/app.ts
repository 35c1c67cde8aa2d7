// The try-it page: signs in as a development user and drives the whole booking flow through the
// client SDK. Development only: it depends on POST /dev/token, which production does not serve.

import { z } from "zod";
import { type BookingChat, type ChatClient, ChatClientError, createChatClient } from "../sdk/src";
import { BookingResponse, type ChatSummary, ChatTokenResponse, type Message } from "../src/protocol";

const DevToken = z.object({ token: z.string() });

type Role = "customer" | "service_provider" | "admin";
type Session = { role: Role; userId: string; token: string; client: ChatClient };

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
let session: Session | null = null;
let chat: BookingChat | null = null;
let openBookingId: string | null = null;
let readBy = 0;
/** Bumped by every openChat, so a slower earlier call never draws into the current pane. */
let generation = 0;
const summaries = new Map<string, ChatSummary>();

function notice(text: string | null): void {
  $("notice").hidden = text === null;
  $("notice").textContent = text ?? "";
}

/** An element with a class and text content, built without innerHTML so user text stays text. */
function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  text = "",
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  node.textContent = text;
  return node;
}

function describe(error: unknown): string {
  return error instanceof ChatClientError ? `${error.message} (${error.code})` : String(error);
}

/** What a person should read about a chat's state. */
function stateOf(s: Pick<ChatSummary, "status" | "chatActive">): { label: string; kind: string } {
  if (["completed", "cancelled", "declined"].includes(s.status))
    return { label: `Closed (${s.status})`, kind: "closed" };
  if (s.chatActive)
    return { label: s.status === "in_progress" ? "Live · job in progress" : "Live", kind: "live" };
  if (s.status === "pending_payment") return { label: "Waiting for payment", kind: "waiting" };
  if (s.status === "paid_to_escrow") return { label: "Waiting for provider", kind: "waiting" };
  return { label: "Waiting for payment", kind: "waiting" };
}

const time = (iso: string) => new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });

async function signIn(role: Role, userId: string): Promise<void> {
  const res = await fetch("/dev/token", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ role, userId }),
  });
  if (!res.ok) {
    notice("Development sign-in is disabled on this server (it only works with ENVIRONMENT=development).");
    return;
  }
  const { token } = DevToken.parse(await res.json());
  const client = createChatClient({ baseUrl: location.origin, getToken: () => token });
  session = { role, userId, token, client };
  notice(null);
  $("signin").hidden = true;
  $("whoami").hidden = false;
  $("whoami").textContent = `${userId} · ${role === "service_provider" ? "provider" : role}`;
  // An admin's tools appear once the live feed is connected, so no change is missed.
  if (role === "admin") await watchFeed(client);
  else listenToInbox(client);
  $("app").hidden = false;
  $("customer-tools").hidden = role !== "customer";
  $("admin-tools").hidden = role !== "admin";
  await refreshBookings();
}

function listenToInbox(client: ChatClient): void {
  const inbox = client.inbox();
  // New bookings arrive as summaries, not events; a slow poll keeps the list current.
  setInterval(() => void refreshBookings(), 3_000);
  const refresh = () => void refreshBookings();
  for (const event of [
    "chat-token-received",
    "booking-accepted",
    "booking-accepted-provider",
    "chatroom-ready",
    "chat-terminated",
    "booking-chat-notification",
  ] as const) {
    inbox.on(event, (data) => {
      refresh();
      // Before the chat opens, the open pane reloads on each step; afterwards its own socket says it all.
      const reopen = event !== "booking-chat-notification" && event !== "chat-terminated";
      if (reopen && data.bookingId === openBookingId) void openChat(data.bookingId);
    });
  }
}

function watchFeed(client: ChatClient): Promise<void> {
  const feed = client.adminFeed();
  const add = (text: string) => {
    const li = document.createElement("li");
    li.dataset.testid = "feed-item";
    li.textContent = text;
    $("feed").prepend(li);
  };
  feed.on("booking-updated", ({ action, booking }) => {
    add(`${time(booking.updatedAt)} · booking ${booking.id.slice(0, 8)} ${action}`);
    summaries.set(booking.id, {
      ...booking,
      bookingId: booking.id,
      lastMessage: null,
      unreadCount: 0,
      lastActivityAt: booking.updatedAt,
    });
    renderBookings();
  });
  feed.on("booking-chat", (m) => add(`${time(m.createdAt)} · ${m.senderId}: ${m.content}`));
  feed.on("support-chat", (m) => add(`${time(m.createdAt)} · support ${m.providerId}: ${m.content}`));
  return feed.ready;
}

async function refreshBookings(): Promise<void> {
  if (!session || session.role === "admin") return;
  const { chats } = await session.client.myChats().catch(() => ({ chats: [] as ChatSummary[] }));
  for (const c of chats) summaries.set(c.bookingId, c);
  renderBookings();
}

function renderBookings(): void {
  const list = $("bookings");
  list.replaceChildren();
  if (summaries.size === 0) {
    list.innerHTML = '<li class="empty">No bookings yet</li>';
    return;
  }
  for (const s of summaries.values()) {
    const li = document.createElement("li");
    li.dataset.testid = "booking-item";
    li.dataset.bookingId = s.bookingId;
    li.classList.toggle("selected", s.bookingId === openBookingId);
    const state = stateOf(s);
    const unread =
      s.unreadCount > 0 ? `<span class="unread" data-testid="unread">${s.unreadCount}</span>` : "";
    li.innerHTML = `<div><strong>Booking ${s.bookingId.slice(0, 8)}</strong></div>
      <div class="row">${unread}<span class="badge ${state.kind}" data-testid="booking-state">${state.label}</span></div>`;
    li.firstElementChild?.append(el("div", "meta", s.lastMessage ? s.lastMessage.content : s.bookingId));
    li.addEventListener("click", () => void openChat(s.bookingId));
    list.append(li);
  }
}

function renderMessage(m: Message): void {
  const mine = m.senderId === session?.userId;
  const li = document.createElement("li");
  li.className = `message${mine ? " mine" : ""}`;
  li.dataset.testid = "message";
  li.dataset.seq = String(m.seq);
  const sentAt = el("span", "time", time(m.createdAt));
  sentAt.dataset.testid = "message-time";
  li.append(el("span", "sender", mine ? "" : m.senderRole), el("span", "text", m.content), sentAt);
  $("messages").append(li);
  if (mine && m.isRead) readBy = Math.max(readBy, m.seq);
  renderReadMarks();
  $("messages").scrollTop = $("messages").scrollHeight;
}

/** Own messages the other party has read get a double tick. */
function renderReadMarks(): void {
  for (const li of $("messages").querySelectorAll<HTMLElement>(".message.mine")) {
    const read = Number(li.dataset.seq) <= readBy;
    const time = li.querySelector(".time");
    if (!time) continue;
    time.textContent = `${time.textContent?.replace(/ ✓✓$/, "") ?? ""}${read ? " ✓✓" : ""}`;
    li.dataset.read = String(read);
  }
}

/** Only the next steps that make sense for this booking. */
function showProviderActions(b: { status: string; providerAccepted: boolean; paymentStatus: string }): void {
  const closed = ["completed", "cancelled", "declined"].includes(b.status);
  const paid = b.paymentStatus === "paid_to_escrow";
  const show = (action: string, visible: boolean) => {
    const button = $("provider-actions").querySelector<HTMLElement>(`[data-action="${action}"]`);
    if (button) button.hidden = !visible;
  };
  show("accept", !closed && !b.providerAccepted);
  show("start", b.status === "confirmed" && paid);
  show("complete", !closed && b.providerAccepted && paid);
}

function setLive(live: boolean, label: string, kind: string): void {
  $("chat-state").textContent = label;
  $("chat-state").className = `badge ${kind}`;
  const canWrite = live && session?.role !== "admin";
  $<HTMLInputElement>("message").disabled = !canWrite;
  const send = $("composer").querySelector("button");
  if (send) send.disabled = !canWrite;
}

const CLOSED_MESSAGES: Record<string, string> = {
  completed: "Chat has been terminated as the job is completed",
  cancelled: "Chat has been terminated as the booking was cancelled",
  declined: "Chat has been terminated as the provider declined the booking",
};

function closedMessage(booking: { status: string }): string {
  return CLOSED_MESSAGES[booking.status] ?? "This chat is closed";
}

function showClosed(message: string): void {
  setLive(false, "Closed", "closed");
  const li = document.createElement("li");
  li.className = "system";
  li.dataset.testid = "chat-closed";
  li.textContent = message;
  $("messages").append(li);
}

async function openChat(bookingId: string): Promise<void> {
  if (!session) return;
  const mine = ++generation;
  const stale = () => mine !== generation;
  chat?.close();
  chat = null;
  openBookingId = bookingId;
  readBy = 0;
  renderBookings();
  $("chat-title").textContent = `Booking ${bookingId.slice(0, 8)}`;
  $("messages").replaceChildren();
  $("provider-actions").hidden = session.role !== "service_provider";
  const booking = BookingResponse.parse(await session.client.request("GET", `/bookings/${bookingId}`));
  if (stale()) return;
  const state = stateOf(booking.booking);
  showProviderActions(booking.booking);
  setLive(false, state.label, state.kind);
  const asAdmin = session.role === "admin";
  try {
    const chatToken = asAdmin
      ? undefined
      : ChatTokenResponse.parse(await session.client.request("GET", `/chat/booking/${bookingId}/token`))
          .chatToken;
    const page = await session.client.booking(bookingId, { asAdmin, chatToken }).history({ limit: 50 });
    if (stale()) return;
    for (const m of page.messages) renderMessage(m);
    const last = page.messages.at(-1)?.seq ?? 0;
    const resumed = session.client.booking(bookingId, { asAdmin, chatToken, sinceSeq: last });
    chat = resumed;
    resumed.on("booking-chat", (m) => {
      renderMessage(m);
      if (m.senderId !== session?.userId && session?.role !== "admin") resumed.markRead(m.seq);
    });
    resumed.on("messages-read", ({ seq }) => {
      readBy = Math.max(readBy, seq);
      renderReadMarks();
    });
    resumed.on("chatroom-ready", () => setLive(true, "Live", "live"));
    resumed.on("chat-terminated", ({ message }) => showClosed(message));
    const joined = await resumed.connect();
    if (stale()) {
      resumed.close();
      return;
    }
    setLive(joined.chatActive, state.label, state.kind);
    const lastFromOther = page.messages.filter((m) => m.senderId !== session?.userId).at(-1);
    if (lastFromOther && session.role !== "admin") resumed.markRead(lastFromOther.seq);
  } catch (error) {
    if (error instanceof ChatClientError && error.code === "chat_terminated")
      showClosed(closedMessage(booking.booking));
    else if (error instanceof ChatClientError && error.code === "token_not_issued")
      setLive(false, state.label, state.kind);
    else notice(describe(error));
  }
}

async function act(path: string, bookingId: string | null): Promise<void> {
  if (!session || !bookingId) return;
  try {
    await session.client.request("POST", `/bookings/${bookingId}/${path}`);
    notice(null);
    await refreshBookings();
    if (bookingId === openBookingId) await openChat(bookingId);
  } catch (error) {
    notice(describe(error));
  }
}

$("signin").addEventListener("submit", (event) => {
  event.preventDefault();
  void signIn($<HTMLSelectElement>("role").value as Role, $<HTMLInputElement>("user").value.trim());
});

$("new-booking").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!session) return;
  try {
    const providerId = $<HTMLInputElement>("provider-id").value.trim();
    const { booking } = BookingResponse.parse(
      await session.client.request("POST", "/bookings", { body: { providerId } }),
    );
    await refreshBookings();
    await openChat(booking.id);
  } catch (error) {
    notice(describe(error));
  }
});

$("composer").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = $<HTMLInputElement>("message");
  const text = input.value;
  if (!chat || !text.trim()) return;
  input.value = "";
  try {
    await chat.send(text);
  } catch (error) {
    notice(describe(error));
  }
});

$("provider-actions").addEventListener("click", (event) => {
  const action = (event.target as HTMLElement).dataset.action;
  if (action) void act(action, openBookingId);
});

$("admin-form").addEventListener("click", (event) => {
  const action = (event.target as HTMLElement).dataset.action;
  const bookingId = $<HTMLInputElement>("admin-booking").value.trim();
  if (action === "pay") void act("payment", bookingId);
  if (action === "complete") void act("complete", bookingId);
  if (action === "watch") void openChat(bookingId);
});
