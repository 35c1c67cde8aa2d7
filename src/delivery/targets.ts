/**
 * Where a conversation's events go besides its own sockets: a user's inbox (every device of
 * that user, whatever screen it is on) and the admin feed.
 */
export type DeliveryTarget = `user:${string}` | "admin-feed";

export const ADMIN_FEED: DeliveryTarget = "admin-feed";

export function inboxOf(userId: string): DeliveryTarget {
  return `user:${userId}`;
}

/** The object that receives a target's deliveries. */
export function deliveryStub(env: Env, target: string) {
  if (target === ADMIN_FEED) return env.ADMIN_FEED.get(env.ADMIN_FEED.idFromName("global"));
  const userId = target.slice("user:".length);
  return env.USER_INBOX.get(env.USER_INBOX.idFromName(userId));
}
