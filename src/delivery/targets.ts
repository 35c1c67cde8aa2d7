import type { UserRole } from "../protocol";

/**
 * Where a conversation's events go besides its own sockets: a user's inbox (every device of
 * that user, whatever screen it is on) and the admin feed. An inbox belongs to a user id *and*
 * a role, like a booking's party does, so a JWT for the same id with another role never hears
 * what was meant for the party.
 */
export type DeliveryTarget = `inbox:${string}` | "admin-feed";

export const ADMIN_FEED: DeliveryTarget = "admin-feed";

export function inboxOf(userId: string, role: UserRole): DeliveryTarget {
  return `inbox:${role}:${userId}`;
}

/** The inbox object of one user in one role. */
export function inboxStub(env: Env, who: { userId: string; role: UserRole }) {
  return env.USER_INBOX.get(env.USER_INBOX.idFromName(`${who.role}:${who.userId}`));
}

/** The object that receives a target's deliveries. */
export function deliveryStub(env: Env, target: string) {
  if (target === ADMIN_FEED) return env.ADMIN_FEED.get(env.ADMIN_FEED.idFromName("global"));
  return env.USER_INBOX.get(env.USER_INBOX.idFromName(target.slice("inbox:".length)));
}
