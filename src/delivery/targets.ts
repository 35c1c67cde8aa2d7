import { objects } from "../placement/namespaces";
import type { UserRole } from "../protocol";
import { stableHash } from "../stable-hash";

/**
 * Where a conversation's events go besides its own sockets: a user's inbox (every device of
 * that user, whatever screen it is on) and one shard of the admin feed. An inbox belongs to a
 * user id *and* a role, like a booking's party does, so a JWT for the same id with another role
 * never hears what was meant for the party.
 */
export function inboxName(who: { userId: string; role: UserRole }): string {
  return `inbox:${who.role}:${who.userId}`;
}

/** The inbox object of one user in one role. */
export function inboxStub(env: Env, who: { userId: string; role: UserRole }) {
  const inboxes = objects(env, "USER_INBOX");
  return inboxes.get(inboxes.idFromName(`${who.role}:${who.userId}`));
}

/** Which admin feed shard carries a conversation (`key`: a booking id, or `support:` and a provider id). */
export function feedShardOf(key: string, shards: number): number {
  return stableHash(key) % shards;
}

export function feedName(shard: number, shards: number): string {
  return `feed:${shard}/${shards}`;
}

/** One admin feed shard. Its name includes the count: changing ADMIN_FEED_SHARDS starts fresh shards. */
export function feedStub(env: Env, shard: number, shards: number) {
  const feeds = objects(env, "ADMIN_FEED");
  return feeds.get(feeds.idFromName(`shard-${shard}-of-${shards}`));
}

/** The consumer name of a Socket.IO hub listening to a conversation. */
export function sioListenerName(hub: number): string {
  return `sio:${hub}`;
}

/** One Socket.IO hub: it holds the connections that land on it (src/socket-io/hub.ts). */
export function sioHubStub(env: Env, hub: number) {
  const hubs = objects(env, "SOCKET_IO_HUB");
  return hubs.get(hubs.idFromName(`hub-${hub}`));
}
