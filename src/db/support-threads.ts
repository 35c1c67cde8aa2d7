import { and, count, desc, eq, max } from "drizzle-orm";
import { z } from "zod";
import { Metadata, type SupportMessage } from "../protocol";
import { presentSupportMessage } from "../support/present";
import type { Database } from "./client";
import { messages } from "./schema";

export type SupportThreadSummary = { providerId: string; messageCount: number; lastMessage: SupportMessage };

const MAX_THREADS = 200;

/** `GET /chat/support`: every provider's thread with its newest message, most recent first. */
export async function listSupportThreads(db: Database): Promise<SupportThreadSummary[]> {
  const latest = db
    .select({
      providerId: messages.conversationId,
      lastSeq: max(messages.seq).as("last_seq"),
      messageCount: count().as("message_count"),
    })
    .from(messages)
    .where(eq(messages.chatType, "admin"))
    .groupBy(messages.conversationId)
    .as("latest");
  const rows = await db
    .select({ message: messages, messageCount: latest.messageCount })
    .from(messages)
    .innerJoin(
      latest,
      and(
        eq(messages.chatType, "admin"),
        eq(messages.conversationId, latest.providerId),
        eq(messages.seq, latest.lastSeq),
      ),
    )
    .orderBy(desc(messages.createdAt))
    .limit(MAX_THREADS);
  return rows.map(({ message, messageCount }) => ({
    providerId: message.conversationId,
    messageCount,
    lastMessage: presentSupportMessage(message.conversationId, {
      ...message,
      metadata: z.parse(z.nullable(Metadata), message.metadata ?? null),
    }),
  }));
}
