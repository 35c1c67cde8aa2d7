import type { StoredMessage } from "../conversation/message-log";
import type { SupportMessage } from "../protocol";

/** A stored support message as clients see it (chatType `admin`). */
export function presentSupportMessage(providerId: string, m: StoredMessage): SupportMessage {
  const senderRole = m.senderRole === "admin" ? "admin" : "provider";
  return { ...m, providerId, senderRole, chatType: "admin", isRead: false };
}
