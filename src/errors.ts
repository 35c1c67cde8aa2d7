import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ErrorBody, ErrorCode } from "./protocol";

/** An error with a client-facing code; rendered by the app's single error handler. */
export class ApiError extends HTTPException {
  constructor(
    status: ContentfulStatusCode,
    readonly code: ErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(status, { message });
  }
}

/** A failure the booking room reports back over RPC (exceptions lose their class across RPC). */
export type RoomFailure = {
  ok: false;
  status: ContentfulStatusCode;
  code: ErrorCode;
  message: string;
  /** With `rate_limited`: when to try again. */
  retryAfterMs?: number;
};
export type RoomResult<T> = { ok: true; value: T } | RoomFailure;

export function fail(
  status: ContentfulStatusCode,
  code: ErrorCode,
  message: string,
  retryAfterMs?: number,
): RoomFailure {
  return { ok: false, status, code, message, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
}

export function ok<T>(value: T): RoomResult<T> {
  return { ok: true, value };
}

/** Unwraps a room result in a route, turning a failure into the matching HTTP error. */
export function unwrap<T>(result: RoomResult<T>): T {
  if (result.ok) return result.value;
  const headers =
    result.retryAfterMs === undefined
      ? undefined
      : { "Retry-After": String(Math.max(1, Math.ceil(result.retryAfterMs / 1000))) };
  throw new ApiError(result.status, result.code, result.message, headers);
}

/** The one JSON shape of every HTTP error. */
export function errorResponse(
  status: ContentfulStatusCode,
  code: ErrorCode,
  message: string,
  headers: Record<string, string> = {},
): Response {
  const body: ErrorBody = { error: { code, message } };
  return Response.json(body, { status, headers });
}
