import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ErrorBody, ErrorCode } from "./protocol";

/**
 * A refusal, whatever carries it: an HTTP error (`{error: {code, message}}`), a `chat-error` frame
 * on a socket, a Socket.IO acknowledgement `{error}`. Plain data, so it crosses RPC intact; each
 * transport renders it in one place.
 */
export type Refusal = {
  code: ErrorCode;
  message: string;
  /** With `rate_limited`: how long to wait. */
  retryAfterMs?: number;
  /** The send it refuses, so the client can match it up. */
  clientMessageId?: string;
};

/** The HTTP status of each code: one code, one status, on every route. */
const STATUS: Record<ErrorCode, ContentfulStatusCode> = {
  unauthorized: 401,
  invalid_signature: 401,
  forbidden: 403,
  not_authorized: 403,
  invalid_token: 403,
  origin_not_allowed: 403,
  not_found: 404,
  booking_not_found: 404,
  token_not_issued: 404,
  invalid_request: 400,
  invalid_payload: 400,
  message_empty: 400,
  message_too_long: 400,
  metadata_too_large: 400,
  payload_too_large: 413,
  unsupported_media_type: 415,
  invalid_attachment: 400,
  not_joined: 409,
  chat_not_active: 409,
  chat_terminated: 409,
  chat_frozen: 409,
  invalid_transition: 409,
  booking_closed: 409,
  already_accepted: 409,
  not_accepted: 409,
  payment_required: 409,
  thread_not_started: 409,
  rate_limited: 429,
  too_many_connections: 429,
  misconfigured: 500,
  internal_error: 500,
  unavailable: 503,
};

export function statusOf(code: ErrorCode): ContentfulStatusCode {
  return STATUS[code];
}

export function refusal(
  code: ErrorCode,
  message: string,
  extras: Omit<Refusal, "code" | "message"> = {},
): Refusal {
  return { code, message, ...extras };
}

/** What a domain call answers: its value, or why not (exceptions lose their class across RPC). */
export type Result<T> = { ok: true; value: T } | { ok: false; refusal: Refusal };

export function fail(
  code: ErrorCode,
  message: string,
  extras?: Omit<Refusal, "code" | "message">,
): {
  ok: false;
  refusal: Refusal;
} {
  return { ok: false, refusal: refusal(code, message, extras) };
}

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

/** A refusal thrown in an HTTP route; rendered by the app's single error handler. */
export class ApiError extends HTTPException {
  readonly refusal: Refusal;
  readonly headers: Record<string, string>;

  constructor(
    code: ErrorCode,
    message: string,
    options: { headers?: Record<string, string>; status?: ContentfulStatusCode; retryAfterMs?: number } = {},
  ) {
    super(options.status ?? statusOf(code), { message });
    this.refusal = refusal(
      code,
      message,
      options.retryAfterMs === undefined ? {} : { retryAfterMs: options.retryAfterMs },
    );
    this.headers = options.headers ?? {};
  }

  static from(refusal: Refusal): ApiError {
    return new ApiError(refusal.code, refusal.message, { retryAfterMs: refusal.retryAfterMs });
  }
}

/** Unwraps a domain result in a route, turning a refusal into the matching HTTP error. */
export function unwrap<T>(result: Result<T>): T {
  if (result.ok) return result.value;
  throw ApiError.from(result.refusal);
}

/** The one JSON shape of every HTTP error, with `Retry-After` when the refusal says when. */
export function errorResponse(
  refused: Refusal,
  options: { status?: ContentfulStatusCode; headers?: Record<string, string> } = {},
): Response {
  const body: ErrorBody = { error: { code: refused.code, message: refused.message } };
  const headers = { ...options.headers };
  if (refused.retryAfterMs !== undefined && !("Retry-After" in headers)) {
    headers["Retry-After"] = String(Math.max(1, Math.ceil(refused.retryAfterMs / 1000)));
  }
  return Response.json(body, { status: options.status ?? statusOf(refused.code), headers });
}
