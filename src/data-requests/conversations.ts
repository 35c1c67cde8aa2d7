import { eq, or } from "drizzle-orm";
import { type Database, database } from "../db/client";
import { archivedSenders, bookings, messages } from "../db/schema";
import { d1Shards } from "../db/shards";
import { parseNdjson } from "../retention/archive-format";

export type UserConversations = { bookings: string[]; supportThreads: string[] };

/**
 * Every conversation that may hold something `userId` wrote, from every shard: the bookings they
 * are a party of, the conversations D1 has a message of theirs in (an admin writes in others'),
 * those an archive object of theirs names, and their own support thread.
 */
export async function conversationsOf(env: Env, userId: string): Promise<UserConversations> {
  const found = { bookings: new Set<string>(), supportThreads: new Set<string>([userId]) };
  const add = (chatType: string, conversationId: string) =>
    (chatType === "admin" ? found.supportThreads : found.bookings).add(conversationId);
  for (const d1 of d1Shards(env)) {
    const db = database(d1);
    const [parties, written, archived] = await db.batch([
      partyBookings(db, userId),
      db
        .selectDistinct({ chatType: messages.chatType, conversationId: messages.conversationId })
        .from(messages)
        .where(eq(messages.senderId, userId)),
      db
        .select({ key: archivedSenders.objectKey })
        .from(archivedSenders)
        .where(eq(archivedSenders.senderId, userId)),
    ]);
    for (const { id } of parties) found.bookings.add(id);
    for (const { chatType, conversationId } of written) add(chatType, conversationId);
    for (const { key } of archived) {
      const object = await env.ARCHIVES.get(key);
      if (!object) continue;
      for (const line of parseNdjson(await object.text())) {
        if (line.senderId === userId) add(line.chatType, line.conversationId);
      }
    }
  }
  return { bookings: [...found.bookings], supportThreads: [...found.supportThreads] };
}

/** The ids of the bookings in one shard that `userId` is a party of. */
function partyBookings(db: Database, userId: string) {
  return db
    .select({ id: bookings.id })
    .from(bookings)
    .where(or(eq(bookings.customerId, userId), eq(bookings.providerId, userId)));
}

/** The bookings `userId` is a party of, from every shard. */
export async function bookingsOf(env: Env, userId: string): Promise<string[]> {
  const ids = new Set<string>();
  for (const d1 of d1Shards(env)) {
    for (const { id } of await partyBookings(database(d1), userId)) ids.add(id);
  }
  return [...ids];
}
