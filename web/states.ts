import type { Booking, ChatSummary, Message } from "../src/protocol";

const CLOSED = ["completed", "cancelled", "declined"];
export const isClosed = (b: { status: string }) => CLOSED.includes(b.status);

/** What a person should read about a chat's state, and the pill's colour. */
export function stateOf(s: Pick<ChatSummary, "status" | "chatActive">): { label: string; kind: string } {
  if (isClosed(s)) return { label: `Closed · ${s.status}`, kind: "closed" };
  if (s.chatActive)
    return { label: s.status === "in_progress" ? "Live · job started" : "Live", kind: "live" };
  if (s.status === "paid_to_escrow") return { label: "Waiting for provider", kind: "waiting" };
  return { label: "Waiting for payment", kind: "waiting" };
}

const CLOSED_MESSAGES: Record<string, string> = {
  completed: "Chat has been terminated as the job is completed",
  cancelled: "Chat has been terminated as the booking was cancelled",
  declined: "Chat has been terminated as the provider declined the booking",
};

export const closedMessage = (b: { status: string }) => CLOSED_MESSAGES[b.status] ?? "This chat is closed";

/** A booking as a list entry (an admin's list, or a booking just made): no messages yet. */
export function summaryOf(
  b: Booking,
): ChatSummary & Pick<Booking, "customerId" | "providerId" | "createdAt"> {
  return { ...b, bookingId: b.id, lastMessage: null, unreadCount: 0, lastActivityAt: b.updatedAt };
}

/** Whether the viewer's chat token exists yet, so the page never asks for one that cannot. */
export function holdsToken(role: string, b: Pick<Booking, "paymentStatus" | "providerAccepted">): boolean {
  if (role === "customer") return b.paymentStatus === "paid_to_escrow";
  if (role === "service_provider") return b.providerAccepted;
  return true;
}

/** The provider's next steps for this booking; none once it is closed. */
export function providerSteps(b: Pick<Booking, "status" | "providerAccepted" | "paymentStatus">) {
  const paid = b.paymentStatus === "paid_to_escrow";
  return {
    accept: !isClosed(b) && !b.providerAccepted,
    start: b.status === "confirmed" && paid,
    complete: !isClosed(b) && b.providerAccepted && paid,
  };
}

/**
 * A message in one line (the list, the admin feed): its text, else what it carries (worded as the
 * service's notifications word it), else that it is hidden.
 */
export function previewOf(m: Pick<Message, "content" | "attachments" | "hidden">): string {
  if (m.content.trim() !== "") return m.content;
  if (m.hidden) return "Hidden by an admin";
  const files = m.attachments ?? [];
  const photos = files.every((f) => f.contentType.startsWith("image/"));
  if (files.length === 0) return "";
  if (files.length === 1) return photos ? "Sent a photo" : "Sent a file";
  return `Sent ${files.length} ${photos ? "photos" : "files"}`;
}
