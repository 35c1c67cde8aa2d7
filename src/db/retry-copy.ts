import { fail, ok, type Result } from "../errors";
import { describeError } from "../log";

/**
 * Runs an admin's retry of a D1 copy, answering D1's refusal instead of throwing it: a thrown
 * query error carries its bound values (message text) into the runtime's log of the call.
 */
export async function refusedByD1(write: () => Promise<unknown>): Promise<Result<null>> {
  try {
    await write();
    return ok(null);
  } catch (error) {
    // D1's own reason, not the query drizzle wraps it in.
    const reason = error instanceof Error && error.cause instanceof Error ? error.cause : error;
    return fail("unavailable", `D1 refused it again: ${describeError(reason).slice(0, 300)}`);
  }
}
