import * as z from "zod/mini";

/** Every error code a client can see, over HTTP (`{error: {code, message}}`) or as `chat-error`. */
export const ErrorCode = z.enum([
  // authentication and authorization
  "unauthorized",
  "forbidden",
  "not_authorized",
  "invalid_token",
  "invalid_signature",
  // lookups
  "not_found",
  "booking_not_found",
  "token_not_issued",
  // input
  "invalid_request",
  "invalid_payload",
  "payload_too_large",
  "message_empty",
  "message_too_long",
  "metadata_too_large",
  "unsupported_media_type",
  "invalid_attachment",
  // chat state
  "not_joined",
  "chat_not_active",
  "chat_terminated",
  "chat_frozen",
  // booking lifecycle conflicts
  "invalid_transition",
  "booking_closed",
  "already_accepted",
  "not_accepted",
  "payment_required",
  // support chat
  "thread_not_started",
  // abuse limits
  "rate_limited",
  "too_many_connections",
  "origin_not_allowed",
  // server
  "misconfigured",
  "unavailable",
  "internal_error",
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const ErrorBody = z.object({
  error: z.object({ code: ErrorCode, message: z.string() }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/**
 * WebSocket close codes the server sends. After 4401, reconnecting with the same JWT will not
 * help; get a fresh one first.
 */
export const CloseCode = {
  /** The server closed in answer to the client's own close. */
  normal: 1000,
  /**
   * A text frame that was not valid UTF-8. The runtime hands such text over with U+FFFD in place of
   * the bad bytes, so a frame containing U+FFFD is treated as one: never send U+FFFD.
   */
  invalidData: 1007,
  /** The socket carries no state the room recognizes (never expected in practice). */
  policyViolation: 1008,
  /** The JWT the socket was opened with has expired; reconnect with a fresh one. */
  jwtExpired: 4401,
  /**
   * The connection kept sending past its frame budget (every frame counts: FRAME_RATE_PER_SOCKET
   * and FRAME_BURST_PER_SOCKET). Reconnecting is allowed, after a pause; a client that floods again
   * is closed again.
   */
  tooManyFrames: 4429,
  /** The user's data was erased (an admin's GDPR erasure); the inbox starts empty on reconnect. */
  erased: 4410,
} as const;

/** The `Sec-WebSocket-Protocol` value the server selects for browser clients. */
export const SUBPROTOCOL = "spana-chat.v1";
/** Browsers carry their JWT as a second subprotocol `bearer.<jwt>`. */
export const BEARER_SUBPROTOCOL_PREFIX = "bearer.";
