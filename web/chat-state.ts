// The open chat's state line, frozen banner, the admin's Freeze / Unfreeze buttons and the
// composer, all drawn from one small state: a socket event, an admin's reply or the feed may each
// change it, and the screen agrees whichever came last.

import { $, time } from "./dom";

const view = { admin: false, live: false, label: "", kind: "", frozen: false, frozenNote: "" };

/** No chat shown yet (or another one opening) for this viewer. */
export function resetChatState(admin: boolean): void {
  Object.assign(view, { admin, live: false, label: "", kind: "", frozen: false, frozenNote: "" });
  render();
}

/** Whether the chat is open for messages, and its state as the pill shows it. */
export function setLive(live: boolean, label: string, kind: string): void {
  Object.assign(view, { live, label, kind });
  render();
}

/** Frozen since `since` (an ISO time), or not (null); `note` is what the chat-frozen event said. */
export function setFrozen(since: string | null, note?: string): void {
  view.frozen = since !== null;
  const at = since ? ` at ${time(since)}` : "";
  view.frozenNote = view.admin
    ? `Frozen${at}: the parties can read this chat but not send until it is unfrozen.`
    : (note ?? `An admin paused this chat${at}. You can read it, but not send, until it is reopened.`);
  render();
}

function render(): void {
  const { admin, live, label, kind, frozen } = view;
  const closed = kind === "closed";
  $("chat-state").textContent = label;
  $("chat-state").className = `badge ${kind}`;
  $("frozen").hidden = !frozen || closed;
  $("frozen").textContent = view.frozenNote;
  for (const [action, shown] of [
    ["freeze", !frozen],
    ["unfreeze", frozen],
  ] as const) {
    const button = $("admin-chat-actions").querySelector<HTMLElement>(`[data-action="${action}"]`);
    if (button) button.hidden = !admin || closed || kind === "" || !shown;
  }
  const canWrite = live && !admin && !frozen;
  const input = $<HTMLInputElement>("message");
  input.disabled = !canWrite;
  input.placeholder = admin
    ? "Admins watch chats read-only"
    : closed
      ? "This chat is closed"
      : frozen
        ? "An admin has paused this chat"
        : live
          ? "Write a message"
          : "The chat opens once the booking is paid and accepted";
  $<HTMLButtonElement>("send-button").disabled = !canWrite;
  $<HTMLInputElement>("file-input").disabled = !canWrite;
}
