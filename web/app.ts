// The try-it page: signs in as a development user and drives the whole booking flow through the
// client SDK's typed calls. Development only: it depends on POST /dev/token, which production does not serve.

import { type BookingChat, ChatClientError } from "../sdk/src";
import { randomId } from "../sdk/src/random-id";
import type { Booking } from "../src/protocol";
import { resetChatState, setFrozen, setLive } from "./chat-state";
import { $, describe, el, notice, succeeded, time } from "./dom";
import { ChatFiles } from "./files";
import { type Entry, otherParty, renderBookings } from "./list";
import { watchLiveUpdates } from "./live-updates";
import { MessageList } from "./messages";
import * as moderation from "./moderation";
import { forgetSession, type Role, restoreSession, type Session, signIn } from "./session";
import { closedMessage, holdsToken, isClosed, previewOf, providerSteps, stateOf, summaryOf } from "./states";
import { PendingFiles } from "./uploads";

let session: Session | null = null;
/** The open chat's live connection. */
let chat: BookingChat | null = null;
/** The open chat's HTTP side (history, files, reports), also after the chat closed. */
let room: BookingChat | null = null;
let openBookingId: string | null = null;
/** Bumped by every openChat, so a slower earlier call never draws into the current pane. */
let generation = 0;
const summaries = new Map<string, Entry>();
const messages = new MessageList($("messages"));
const pending = new PendingFiles($("pending-files"));
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
  watchLiveUpdates(inbox, () => void refreshBookings());
  inbox.connect().catch((error: unknown) => notice(`Live updates are off: ${describe(error)}`, "live"));
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
    showList();
    if (booking.id !== openBookingId) return;
    showSteps(booking);
    setFrozen(booking.chatFrozenAt);
  });
  feed.on("booking-chat", (m) => add(`${time(m.createdAt)} · ${m.senderId}: ${previewOf(m)}`));
  feed.on("support-chat", (m) => add(`${time(m.createdAt)} · support ${m.providerId}: ${m.content}`));
  watchLiveUpdates(feed, () => void refreshBookings());
  return feed.connect();
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
    showList();
    succeeded("list");
  } catch (error) {
    notice(`Could not load the list: ${describe(error)}`, "list");
  }
}

function showList(): void {
  renderBookings($("bookings"), summaries.values(), {
    admin: session?.role === "admin",
    me: session?.userId ?? "",
    selected: openBookingId,
    open: (bookingId) => void openChat(bookingId),
  });
}

/** Only the next steps that make sense for this booking, for whoever may take them. */
function showSteps(b: Booking): void {
  const steps = providerSteps(b);
  const show = (container: string, action: string, visible: boolean) => {
    const button = $(container).querySelector<HTMLElement>(`[data-action="${action}"]`);
    if (button) button.hidden = !visible;
  };
  show("provider-actions", "accept", steps.accept);
  show("provider-actions", "decline", steps.accept);
  show("customer-actions", "cancel", !isClosed(b));
  show("provider-actions", "start", steps.start);
  show("provider-actions", "complete", steps.complete);
  show("admin-actions", "payment", !isClosed(b) && b.paymentStatus !== "paid_to_escrow");
  show("admin-actions", "complete", !isClosed(b) && b.providerAccepted);
  show("admin-actions", "cancel", !isClosed(b));
}

function showClosed(message: string, booking: Booking | null): void {
  setLive(false, booking ? stateOf(booking).label : "Closed", "closed");
  if (booking) showSteps(booking);
  else for (const button of document.querySelectorAll<HTMLElement>(".steps button")) button.hidden = true;
  pending.clear();
  // The socket stops with the chat: who was online or typing is no longer known.
  $("presence").hidden = true;
  showTyping("", false);
  messages.note(message, "chat-closed");
}

async function openChat(bookingId: string): Promise<void> {
  if (!session) return;
  const { client, role, userId } = session;
  const mine = ++generation;
  const stale = () => mine !== generation;
  leaveChat();
  openBookingId = bookingId;
  document.body.classList.add("chat-open");
  showList();
  $<HTMLInputElement>("admin-booking").value = bookingId;
  $("chat-title").textContent = "Chat";
  $("copy-id").hidden = false;
  $("presence").hidden = true;
  $("typing").hidden = true;
  $("provider-actions").hidden = role !== "service_provider";
  $("customer-actions").hidden = role !== "customer";
  $("admin-chat-actions").hidden = role !== "admin";
  try {
    const { booking } = await client.api.getBooking({ params: { id: bookingId } });
    if (stale()) return;
    const state = stateOf(booking);
    $("chat-title").textContent =
      role === "admin"
        ? `${booking.customerId} → ${booking.providerId}`
        : `Chat with ${otherParty(booking, userId) ?? "the other party"}`;
    showSteps(booking);
    setFrozen(booking.chatFrozenAt);
    setLive(false, state.label, state.kind);
    // Before the viewer's token exists there is nothing to read yet, and asking for it would be a 404.
    if (!holdsToken(role, booking)) return;
    const asAdmin = role === "admin";
    const chatToken = asAdmin
      ? undefined
      : (await client.api.chatToken({ params: { id: bookingId } })).chatToken;
    const reader = client.booking(bookingId, { asAdmin, chatToken });
    const page = await reader.history({ limit: 50 });
    if (stale()) return;
    room = reader;
    const files = new ChatFiles((id) => reader.attachment(id), $("messages"));
    messages.reset({ userId, admin: asAdmin, files });
    for (const m of page.messages) messages.add(m);
    if (isClosed(booking)) return showClosed(closedMessage(booking), booking);
    const last = page.messages.at(-1)?.seq ?? 0;
    const resumed = client.booking(bookingId, { asAdmin, chatToken, sinceSeq: last });
    chat = resumed;
    resumed.on("booking-chat", (m) => {
      messages.add(m);
      if (m.senderId === userId) return;
      // Their message is in, so they stopped typing (the "stopped" itself may have been rate-dropped).
      showTyping(m.senderId, false);
      if (!asAdmin) resumed.markRead(m.seq);
    });
    resumed.on("messages-read", ({ seq }) => messages.read(seq));
    resumed.on("message-hidden", ({ seq }) => messages.hide(seq));
    followFreezes(resumed, bookingId, stale);
    resumed.on("chatroom-ready", () => setLive(true, "Live", "live"));
    // Lost and reconnecting: say so, with what is waiting to be sent (the composer stays usable: the
    // SDK keeps what is sent meanwhile); a rejoin brings "Live" back.
    showConnection = () => {
      const status = resumed.status;
      if (stale() || (status !== "offline" && status !== "connecting") || !connected) return;
      const waiting = resumed.waiting;
      setLive(true, waiting > 0 ? `Offline, ${waiting} waiting` : "Reconnecting…", "waiting");
    };
    resumed.on("status", showConnection);
    // A chat that ended while this page was reconnecting (its chat-terminated went to nobody): a
    // party's rejoin is refused, an admin's says the chat is not active.
    const endedWhileAway = () =>
      void client.api.getBooking({ params: { id: bookingId } }).then(
        ({ booking: latest }) => !stale() && isClosed(latest) && showClosed(closedMessage(latest), latest),
        () => {},
      );
    resumed.on("booking-joined", ({ chatActive }) => {
      if (stale() || !connected) return;
      if (chatActive) setLive(true, "Live", "live");
      else endedWhileAway();
    });
    resumed.on("chat-error", ({ code, clientMessageId }) => {
      if (!stale() && connected && !clientMessageId && code === "chat_terminated") endedWhileAway();
    });
    resumed.on("presence", ({ online }) => showPresence(online));
    resumed.on("typing", ({ userId: typist, isTyping }) => showTyping(typist, isTyping));
    resumed.on("chat-terminated", ({ message }) => {
      void client.api.getBooking({ params: { id: bookingId } }).then(
        (latest) => !stale() && showClosed(message, latest.booking),
        () => !stale() && showClosed(message, null),
      );
    });
    let connected = false;
    const joined = await resumed.connect();
    connected = true;
    if (stale()) return resumed.close();
    setLive(joined.chatActive, state.label, state.kind);
    const lastFromOther = page.messages.filter((m) => m.senderId !== userId).at(-1);
    if (lastFromOther && !asAdmin) resumed.markRead(lastFromOther.seq);
    succeeded("chat");
  } catch (error) {
    if (stale()) return;
    if (error instanceof ChatClientError && error.code === "chat_terminated") {
      const latest = await client.api.getBooking({ params: { id: bookingId } }).catch(() => null);
      showClosed(latest ? closedMessage(latest.booking) : "This chat is closed", latest?.booking ?? null);
    } else notice(`Could not open the chat: ${describe(error)}`, "chat");
  }
}

/**
 * Keeps the frozen banner true. chat-frozen is live only, so one sent while this chat was (re)joining
 * is made up for by reading the booking after every join; an event heard meanwhile is newer and wins.
 */
function followFreezes(resumed: BookingChat, bookingId: string, stale: () => boolean): void {
  let heard = 0;
  resumed.on("chat-frozen", ({ frozen, message }) => {
    heard++;
    setFrozen(frozen ? new Date().toISOString() : null, message);
  });
  resumed.on("booking-joined", () => {
    const before = heard;
    void session?.client.api.getBooking({ params: { id: bookingId } }).then(
      ({ booking }) => !stale() && heard === before && setFrozen(booking.chatFrozenAt),
      () => {},
    );
  });
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

/** Redraws the open chat's connection line (after a status change, or a send while offline). */
let showConnection = () => {};

/** Lets the open chat go: its socket, its files' object URLs and what was picked to send. */
function leaveChat(): void {
  chat?.close();
  chat = null;
  showConnection = () => {};
  room = null;
  messages.reset(null);
  pending.clear();
  resetChatState(session?.role === "admin");
}

function closeChat(): void {
  generation++;
  leaveChat();
  openBookingId = null;
  document.body.classList.remove("chat-open");
  showList();
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
  decline: "declineBooking",
  start: "startJob",
  complete: "completeJob",
  cancel: "cancelBooking",
} as const;
type Step = keyof typeof STEP_ROUTES;

/** Steps that close the chat for good, asked about first. */
const FINAL: Partial<Record<Step, string>> = {
  decline: "Decline this booking? The chat closes for good.",
  complete: "Mark the job completed? The chat closes for good.",
  cancel: "Cancel this booking? The chat closes for good.",
};

/** What each step did, and what it is called when it could not be done. */
const STEP_WORDS: Record<Step, { done: string; verb: string }> = {
  payment: { done: "Payment confirmed", verb: "confirm the payment of" },
  accept: { done: "Accepted", verb: "accept" },
  decline: { done: "Declined; its chat is closed", verb: "decline" },
  start: { done: "Job started", verb: "start the job of" },
  complete: { done: "Job completed; its chat is closed", verb: "complete" },
  cancel: { done: "Cancelled; its chat is closed", verb: "cancel" },
};

async function act(step: Step, bookingId: string): Promise<void> {
  if (!session) return;
  const question = FINAL[step];
  if (question && !confirm(question)) return;
  const words = STEP_WORDS[step];
  try {
    await session.client.api[STEP_ROUTES[step]]({ params: { id: bookingId } });
    // The open chat shows what changed; a booking acted on by a pasted id is shown nowhere else.
    if (bookingId === openBookingId) notice(null);
    else notice(`${words.done}: booking ${bookingId}`, "action", "ok");
    await refreshBookings();
    // A closing step is shown by the chat's own socket; everything else reloads the pane.
    if (bookingId === openBookingId && (!FINAL[step] || !chat)) await openChat(bookingId);
  } catch (error) {
    notice(`Could not ${words.verb} booking ${bookingId}: ${describe(error)}`);
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
  const text = input.value.trim() ? input.value : "";
  const sending = chat;
  if (!sending || (!text && pending.size === 0)) return;
  input.value = "";
  sending.typing(false);
  // Shown at once as sending: while offline (the SDK sends it on reconnect) or its files upload.
  const clientMessageId = randomId(); // crypto.randomUUID exists only on https and localhost
  messages.sending(clientMessageId, text, pending.size);
  try {
    // A message goes out once its files are uploaded; with files, its text may be empty.
    const attachments = await pending.take();
    if (sending !== chat) return;
    if (!text && attachments.length === 0)
      return messages.notSent(clientMessageId, "its files were not uploaded");
    const stored = sending.send(text, { attachments, clientMessageId });
    showConnection();
    await stored;
    showConnection();
    succeeded("send");
  } catch (error) {
    if (sending !== chat) return;
    messages.notSent(clientMessageId, describe(error));
    notice(`Your message was not sent: ${describe(error)}`, "send");
  }
});

$("file-input").addEventListener("change", () => {
  const input = $<HTMLInputElement>("file-input");
  const files = [...(input.files ?? [])];
  input.value = "";
  const uploading = chat;
  if (uploading) pending.add(files, (file) => uploading.upload(file, { name: file.name }));
});

/** A message's Report (parties) or Hide (admins) button. */
$("messages").addEventListener("click", (event) => {
  const button = (event.target as HTMLElement).closest<HTMLButtonElement>("button[data-action]");
  const seq = Number(button?.closest<HTMLElement>(".message")?.dataset.seq);
  if (!button || !seq || !session || !openBookingId) return;
  const bookingId = openBookingId;
  if (button.dataset.action === "report" && room) void moderation.report(room, seq, button);
  if (button.dataset.action === "hide")
    void moderation.hide(session.client, bookingId, seq).then((hidden) => {
      if (hidden && bookingId === openBookingId) messages.hide(seq);
    });
});

$("admin-chat-actions").addEventListener("click", async (event) => {
  const action = (event.target as HTMLElement).dataset.action;
  if (!session || !openBookingId || (action !== "freeze" && action !== "unfreeze")) return;
  const bookingId = openBookingId;
  const booking = await moderation.freeze(session.client, bookingId, action === "freeze");
  if (booking && bookingId === openBookingId) setFrozen(booking.chatFrozenAt);
});

for (const container of ["provider-actions", "customer-actions"]) {
  $(container).addEventListener("click", (event) => {
    const action = (event.target as HTMLElement).dataset.action as Step | undefined;
    if (action && openBookingId) void act(action, openBookingId);
  });
}

$("admin-actions").addEventListener("click", (event) => {
  const action = (event.target as HTMLElement).dataset.action;
  if (!action) return;
  const bookingId = adminTarget();
  if (!bookingId) return notice("Pick a booking from the list (or paste its full id) first.");
  if (action === "watch") void openChat(bookingId);
  else void act(action as Step, bookingId);
});

$("copy-id").addEventListener("click", () => {
  if (!openBookingId) return;
  const button = $("copy-id");
  const said = (text: string) => {
    button.textContent = text;
    setTimeout(() => {
      button.textContent = "Copy id";
    }, 1_500);
  };
  (navigator.clipboard?.writeText(openBookingId) ?? Promise.reject(new Error("no clipboard"))).then(
    () => said("Copied"),
    () => said(openBookingId ?? ""),
  );
});

$("back").addEventListener("click", closeChat);

$("refresh").addEventListener("click", () => void refreshBookings());

const restored = restoreSession();
if (restored) void start(restored);
else forgetSession();
