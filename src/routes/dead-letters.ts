import { recordAdminAccess } from "../db/admin-audit";
import { getDeadLetter, listDeadLetters, resolveDeadLetter } from "../delivery/dead-letters";
import { ApiError, type Result, unwrap } from "../errors";
import { describeError } from "../log";
import { bookingRoom } from "../rooms";
import { supportThread } from "../support/thread-stub";
import type { RouteHandlers } from "./serve";

/** A dead letter's id from the path: its row id. */
function letterId(param: string): number {
  const id = /^\d{1,15}$/.test(param) ? Number(param) : Number.NaN;
  if (!Number.isSafeInteger(id)) throw new ApiError("not_found", "No such dead letter");
  return id;
}

async function unresolved(d1: D1Database, id: number) {
  const letter = await getDeadLetter(d1, id);
  if (!letter) throw new ApiError("not_found", "No such dead letter");
  if (letter.resolvedAt) throw new ApiError("invalid_transition", `Already ${letter.resolution}`);
  return letter;
}

/**
 * What consumers set aside: listed, retried (D1 copies: the conversation copies the item again) or
 * discarded by admins, each on the audit trail first. `/health` is degraded while any is unresolved.
 */
export const deadLetterHandlers = {
  deadLetters: async (c, { identity }) => {
    await recordAdminAccess(c.env.DB, identity.userId, "dead-letters.read", "all");
    return Response.json({ deadLetters: await listDeadLetters(c.env.DB) });
  },
  retryDeadLetter: async (c, { identity, params }) => {
    const id = letterId(params.id);
    await recordAdminAccess(c.env.DB, identity.userId, "dead-letters.retry", String(id));
    const letter = await unresolved(c.env.DB, id);
    if (letter.consumer !== "d1") {
      throw new ApiError(
        "invalid_transition",
        "Only D1 copies can be retried: deliveries to sockets are not worth repeating later; discard it",
      );
    }
    const [kind, key] = [
      letter.source.slice(0, letter.source.indexOf(":")),
      letter.source.slice(letter.source.indexOf(":") + 1),
    ];
    let retried: Result<null>;
    try {
      retried =
        kind === "booking"
          ? await bookingRoom(c.env, key).retryD1Copy(letter.position)
          : await supportThread(c.env, key).retryD1Copy(letter.position);
    } catch (error) {
      console.error(`dead letter ${id}: its conversation could not be reached`, describeError(error));
      throw new ApiError("unavailable", "The conversation could not be reached; try again");
    }
    if (!retried.ok && retried.refusal.code === "unavailable")
      console.error(`dead letter ${id}: retry refused`, retried.refusal.message);
    unwrap(retried);
    await resolveDeadLetter(c.env.DB, id, "retried", identity.userId);
    return { body: { deadLetter: { ...letter, ...(await getDeadLetter(c.env.DB, id)) } } };
  },
  discardDeadLetter: async (c, { identity, params }) => {
    const id = letterId(params.id);
    await recordAdminAccess(c.env.DB, identity.userId, "dead-letters.discard", String(id));
    await unresolved(c.env.DB, id);
    if (!(await resolveDeadLetter(c.env.DB, id, "discarded", identity.userId))) {
      throw new ApiError("invalid_transition", "Already resolved");
    }
    const letter = await getDeadLetter(c.env.DB, id);
    if (!letter) throw new ApiError("not_found", "No such dead letter");
    return { body: { deadLetter: letter } };
  },
} satisfies Partial<RouteHandlers>;
