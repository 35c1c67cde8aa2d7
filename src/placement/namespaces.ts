import { getConfig } from "../config";

type Namespaced =
  | "BOOKING_ROOM"
  | "USER_INBOX"
  | "ADMIN_FEED"
  | "SUPPORT_THREAD"
  | "SOCKET_IO_HUB"
  | "USER_ERASURE";

/**
 * A Durable Object namespace as this deployment uses it: with DATA_JURISDICTION=eu, every object
 * is created and found through `jurisdiction("eu")`, so its data never leaves the EU. Switching it
 * on later starts every object afresh (ids differ per jurisdiction): decide before the first user.
 */
export function objects<K extends Namespaced>(env: Env, binding: K): Env[K] {
  const namespace = env[binding];
  const jurisdiction = getConfig(env).jurisdiction;
  return (jurisdiction ? namespace.jurisdiction(jurisdiction) : namespace) as Env[K];
}
