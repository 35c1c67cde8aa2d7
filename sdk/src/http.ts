import { ErrorBody, type ErrorCode } from "../../src/protocol";

/** A refusal from the service: the HTTP status (or 0 on a socket) and its error code. */
export class ChatClientError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = "ChatClientError";
  }
}

/**
 * U+FFFD is how a server sees text that was not valid UTF-8, so it closes a socket whose frame
 * holds one (1007): the SDK refuses such a send instead of letting the connection loop.
 */
export const REPLACEMENT_CHARACTER = "\uFFFD";

export function replacementRefused(): ChatClientError {
  return new ChatClientError(0, "invalid_payload", "Text may not contain U+FFFD (the replacement character)");
}

export type HttpOptions = { baseUrl: string; getToken: () => Promise<string>; fetch: typeof fetch };

/** Raw bytes for an upload: a browser's File or Blob, or bytes. */
export type FileBody = Blob | ArrayBuffer | Uint8Array<ArrayBuffer>;

export type RequestOptions = {
  body?: unknown;
  /** Raw bytes to send instead of a JSON body (an upload); `Content-Type` comes from `headers`. */
  bytes?: FileBody;
  headers?: Record<string, string>;
  anonymous?: boolean;
  /** The answer is bytes (a download): resolve with them as a Blob. */
  binary?: boolean;
};

/** Calls the HTTP API with the user's JWT; returns the JSON body (or a Blob) or throws a ChatClientError. */
export async function request(
  http: HttpOptions,
  method: string,
  path: string,
  options: RequestOptions = {},
): Promise<unknown> {
  const headers = new Headers(options.headers);
  if (!options.anonymous) headers.set("Authorization", `Bearer ${await http.getToken()}`);
  if (options.body !== undefined && options.bytes === undefined)
    headers.set("Content-Type", "application/json");
  const response = await http.fetch(`${http.baseUrl}${path}`, {
    method,
    headers,
    body: options.bytes ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
  });
  if (response.ok && options.binary) return response.blob();
  const json: unknown = await response.json().catch(() => null);
  if (response.ok) return json;
  const error = ErrorBody.safeParse(json);
  if (error.success)
    throw new ChatClientError(response.status, error.data.error.code, error.data.error.message);
  throw new ChatClientError(response.status, "internal_error", `HTTP ${response.status}`);
}
