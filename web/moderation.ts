// What people can do about a message or a chat: a party reports, an admin hides or freezes. Each
// asks first (the reason is what the audit trail and the other admins read).

import type { BookingChat, ChatClient } from "../sdk/src";
import type { Booking } from "../src/protocol";
import { describe, notice } from "./dom";

/** A party reports the other party's message `seq`; its button then says so. */
export async function report(room: BookingChat, seq: number, button: HTMLButtonElement): Promise<void> {
  const reason = prompt("Why are you reporting this message? An admin will look at it.");
  if (reason === null) return;
  if (!reason.trim()) return notice("Say why you report the message, so an admin knows what to look for.");
  button.disabled = true;
  try {
    await room.report(seq, reason.trim());
    button.textContent = "Reported";
  } catch (error) {
    button.disabled = false;
    notice(`Could not report the message: ${describe(error)}`);
  }
}

/** An admin hides message `seq` from both parties; true once it is hidden. */
export async function hide(client: ChatClient, bookingId: string, seq: number): Promise<boolean> {
  const reason = prompt("Hide this message from both parties? Why (optional):", "");
  if (reason === null) return false;
  try {
    const body = reason.trim() ? { body: { reason: reason.trim() } } : {};
    await client.api.hideMessage({ params: { id: bookingId, seq: String(seq) }, ...body });
    return true;
  } catch (error) {
    notice(`Could not hide the message: ${describe(error)}`);
    return false;
  }
}

/** An admin freezes (or reopens) the chat; the booking as it is then, or null if nothing changed. */
export async function freeze(
  client: ChatClient,
  bookingId: string,
  frozen: boolean,
): Promise<Booking | null> {
  const reason = frozen
    ? prompt("Freeze this chat? Both parties can read it but not send until it is unfrozen. Why:", "")
    : prompt("Unfreeze this chat, so both parties can send again? Why:", "Reviewed");
  if (reason === null) return null;
  if (!reason.trim()) {
    notice(`Give a reason to ${frozen ? "freeze" : "unfreeze"} the chat; the audit trail keeps it.`);
    return null;
  }
  try {
    const call = frozen ? client.api.freezeChat : client.api.unfreezeChat;
    return (await call({ params: { id: bookingId }, body: { reason: reason.trim() } })).booking;
  } catch (error) {
    notice(`Could not ${frozen ? "freeze" : "unfreeze"} the chat: ${describe(error)}`);
    return null;
  }
}
