import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import type { AppEnv } from "./auth/authenticate";
import { corsForAllowedOrigins } from "./auth/origin";
import { ApiError, errorResponse, refusal } from "./errors";
import { describeError } from "./log";
import { adminHandlers } from "./routes/admin";
import { attachmentHandlers } from "./routes/attachments";
import { bookingHandlers } from "./routes/bookings";
import { chatHandlers } from "./routes/chat";
import { dataRequestHandlers } from "./routes/data-requests";
import { deadLetterHandlers } from "./routes/dead-letters";
import { devHandlers } from "./routes/dev";
import { metaHandlers } from "./routes/meta";
import { moderationHandlers } from "./routes/moderation";
import { type RouteHandlers, serveRoutes } from "./routes/serve";
import { socketIoRoutes } from "./routes/socket-io";
import { socketRoutes } from "./routes/sockets";
import { supportHandlers } from "./routes/support";

/** The HTTP surface: routes in, one error shape out. */
export const app = new Hono<AppEnv>();

app.use("*", corsForAllowedOrigins);

/**
 * No request body is larger; checked before anything reads one (the payment webhook included).
 * Uploads stream to R2 under their own limit (ATTACHMENT_MAX_BYTES, src/routes/attachments.ts).
 */
const MAX_BODY_BYTES = 64 * 1024;
const UPLOAD_PATH = /^\/chat\/booking\/[^/]+\/attachments$/;
const limitBody = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: () =>
    errorResponse(refusal("payload_too_large", `Request bodies are at most ${MAX_BODY_BYTES} bytes`)),
});
app.use("*", (c, next) =>
  c.req.method === "POST" && UPLOAD_PATH.test(c.req.path) ? next() : limitBody(c, next),
);

// The sockets first: `/bookings/:id/ws` must not be read as a booking's HTTP route.
app.route("/", socketRoutes);
app.route("/", socketIoRoutes);
const handlers: RouteHandlers = {
  ...metaHandlers,
  ...devHandlers,
  ...bookingHandlers,
  ...chatHandlers,
  ...adminHandlers,
  ...supportHandlers,
  ...attachmentHandlers,
  ...moderationHandlers,
  ...dataRequestHandlers,
  ...deadLetterHandlers,
};
serveRoutes(app, handlers);

app.notFound(() => errorResponse(refusal("not_found", "No such route")));

app.onError((error, c) => {
  if (error instanceof ApiError) {
    return errorResponse(error.refusal, { status: error.status, headers: error.headers });
  }
  if (error instanceof HTTPException) {
    // Hono's own errors (for example a malformed request); never leak internals.
    const refused = refusal("invalid_request", error.message || "Invalid request");
    return errorResponse(refused, { status: error.status });
  }
  console.error(`unhandled error on ${c.req.method} ${new URL(c.req.url).pathname}`, describeError(error));
  return errorResponse(refusal("internal_error", "Something went wrong"));
});
