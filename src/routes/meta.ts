import type { Context } from "hono";
import { type AppEnv, authenticateRequest } from "../auth/authenticate";
import { configProblems } from "../config";
import { countDeadLetters } from "../delivery/dead-letters";
import { describeError } from "../log";
import { openApiDocument } from "../openapi";
import type { RouteHandlers } from "./serve";

/** Whether the request carries a valid admin JWT; never throws (a health check must answer). */
async function callerIsAdmin(c: Context<AppEnv>): Promise<boolean> {
  if (!c.req.header("Authorization")) return false;
  try {
    return (await authenticateRequest(c)).role === "admin";
  } catch {
    return false;
  }
}

/** The service about itself: its health and its OpenAPI document. */
export const metaHandlers = {
  /**
   * Configuration problems (named, never their values); red (503) while the configuration is wrong
   * or D1 cannot be read. How many items consumers have set aside is for admins only (send an
   * admin JWT), since it tells an outsider how the service is doing.
   */
  health: async (c) => {
    const problems = configProblems(c.env);
    let deadLetters: number | null = null;
    try {
      deadLetters = await countDeadLetters(c.env.DB);
    } catch (error) {
      console.error("health: D1 unreachable", describeError(error));
      problems.push("D1 is unreachable");
    }
    const details = (await callerIsAdmin(c)) ? { deadLetters } : {};
    const ok = problems.length === 0;
    const status = !ok ? "misconfigured" : deadLetters ? "degraded" : "ok";
    return Response.json({ ok, status, problems, ...details }, { status: ok ? 200 : 503 });
  },
  openApi: () => ({ body: openApiDocument() }),
} satisfies Partial<RouteHandlers>;
