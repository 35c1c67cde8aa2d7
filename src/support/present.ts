import { messageCore } from "../conversation/present";
import type { MessageCore, SupportMessage } from "../protocol";

/** A stored support message as clients see it (chatType `admin`). */
export function presentSupportMessage(
  providerId: string,
  m: MessageCore & { senderRole: string; erasedAt?: string | null },
): SupportMessage {
  const senderRole = m.senderRole === "admin" ? "admin" : "provider";
  return { ...messageCore(m), providerId, senderRole, chatType: "admin", isRead: false };
}
