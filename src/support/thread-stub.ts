import { z } from "zod";
import type { Identity } from "../auth/jwt";
import { ok, type RoomResult } from "../errors";
import { SupportMessage, type SupportMessageBody } from "../protocol";
import { overLimit } from "../routes/throttle";

/** A provider's support thread: one object per provider. */
export function supportThread(env: Env, providerId: string) {
  return env.SUPPORT_THREAD.get(env.SUPPORT_THREAD.idFromName(providerId));
}

const Posted = z.object({ message: SupportMessage, duplicate: z.boolean() });
export type PostedSupportMessage = z.infer<typeof Posted>;

/**
 * Posts to a provider's thread, whatever carried the post (HTTP or the inbox socket): one limit,
 * SUPPORT_POSTS per writer, for both. The RPC type of a result holding free-form metadata collapses
 * to `never`, so the value is parsed back into its real shape here, at the boundary.
 */
export async function postSupportMessage(
  env: Env,
  identity: Identity,
  providerId: string,
  body: SupportMessageBody,
): Promise<RoomResult<PostedSupportMessage>> {
  const limited = await overLimit(env.SUPPORT_POSTS, identity.userId, "support messages");
  if (limited) return limited;
  const result = asUntyped(await supportThread(env, providerId).post(identity, providerId, body));
  if (!result.ok) return result;
  return ok(Posted.parse(result.value));
}

function asUntyped(result: RoomResult<unknown>): RoomResult<unknown> {
  return result;
}
