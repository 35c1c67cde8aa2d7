import type { Identity } from "../auth/jwt";
import type { Result } from "../errors";
import { objects } from "../placement/namespaces";
import type { SupportMessageBody } from "../protocol";
import { overLimit } from "../routes/throttle";
import type { PostedSupportMessage } from "./thread";

/** A provider's support thread: one object per provider. */
export function supportThread(env: Env, providerId: string) {
  const threads = objects(env, "SUPPORT_THREAD");
  return threads.get(threads.idFromName(providerId));
}

/**
 * Posts to a provider's thread, whatever carried the post (HTTP or the inbox socket): one limit,
 * SUPPORT_POSTS per writer, for both.
 */
export async function postSupportMessage(
  env: Env,
  identity: Identity,
  providerId: string,
  body: SupportMessageBody,
): Promise<Result<PostedSupportMessage>> {
  const limited = await overLimit(env.SUPPORT_POSTS, identity.userId, "support messages");
  if (limited) return { ok: false, refusal: limited };
  return supportThread(env, providerId).post(identity, providerId, body);
}
