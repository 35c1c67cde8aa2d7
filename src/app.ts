import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { type AppEnv, authenticateRequest } from "./auth/authenticate";
import { corsForAllowedOrigins } from "./auth/origin";
import { configProblems } from "./config";
import { countDeadLetters } from "./delivery/dead-letters";
import { ApiError, errorResponse } from "./errors";
import { describeError } from "./log";
import { openApiDocument } from "./openapi";
import { adminChatRoutes, adminRoutes } from "./routes/admin";
import { bookingRoutes } from "./routes/bookings";
import { chatRoutes } from "./routes/chat";
import { devRoutes } from "./routes/dev";
import { meRoutes } from "./routes/me";
import { socketIoRoutes } from "./routes/socket-io";
import { socketRoutes } from "./routes/sockets";
import { supportRoutes } from "./routes/support";

/** The HTTP surface: routes in, one error shape out. */
export const app = new Hono<AppEnv>();

app.use("*", corsForAllowedOrigins);

/** No request body is larger; checked before anything reads one (the payment webhook included). */
const MAX_BODY_BYTES = 64 * 1024;
app.use(
  "*",
  bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: () =>
      errorResponse(413, "payload_too_large", `Request bodies are at most ${MAX_BODY_BYTES} bytes`),
  }),
);

/**
 * Health: configuration problems (named, never their values); red (503) while the configuration is
 * wrong or D1 cannot be read. How many items consumers have set aside is for admins only (send an
 * admin JWT), since it tells an outsider how the service is doing.
 */
app.get("/health", async (c) => {
  const problems = configProblems(c.env);
  let deadLetters: number | null = null;
  try {
    deadLetters = await countDeadLetters(c.env.DB);
  } catch (error) {
    console.error("health: D1 unreachable", describeError(error));
    problems.push("D1 is unreachable");
  }
  const body = { ok: problems.length === 0, problems };
  const details = (await callerIsAdmin(c)) ? { deadLetters } : {};
  return c.json({ ...body, ...details }, problems.length === 0 ? 200 : 503);
});
app.get("/openapi.json", () => Response.json(openApiDocument()));
app.route("/bookings", socketRoutes);
app.route("/bookings", bookingRoutes);
app.route("/dev", devRoutes);
app.route("/me", meRoutes);
app.route("/admin", adminRoutes);
app.route("/chat/admin", adminChatRoutes);
app.route("/chat/support", supportRoutes);
app.route("/chat", chatRoutes);
app.route("/", socketIoRoutes);

/** Whether the request carries a valid admin JWT; never throws (a health check must answer). */
async function callerIsAdmin(c: Context<AppEnv>): Promise<boolean> {
  if (!c.req.header("Authorization")) return false;
  try {
    return (await authenticateRequest(c)).role === "admin";
  } catch {
    return false;
  }
}

app.notFound(() => errorResponse(404, "not_found", "No such route"));

app.onError((error, c) => {
  if (error instanceof ApiError) return errorResponse(error.status, error.code, error.message, error.headers);
  if (error instanceof HTTPException) {
    // Hono's own errors (for example a malformed request); never leak internals.
    return errorResponse(error.status, "invalid_request", error.message || "Invalid request");
  }
  console.error(`unhandled error on ${c.req.method} ${new URL(c.req.url).pathname}`, describeError(error));
  return errorResponse(500, "internal_error", "Something went wrong");
});
