import type { MessageCore } from "../protocol";

/**
 * The fields every message shows, picked from a stored row (a room's, a thread's or D1's). An
 * erased one keeps its place and sender; its content was emptied when it was erased.
 */
export function messageCore(m: MessageCore & { erasedAt?: string | null }): MessageCore {
  return {
    id: m.id,
    seq: m.seq,
    senderId: m.senderId,
    content: m.content,
    clientMessageId: m.clientMessageId,
    metadata: m.metadata,
    createdAt: m.createdAt,
    ...(m.erasedAt ? { erased: true as const } : {}),
  };
}
