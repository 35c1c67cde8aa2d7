import { exports } from "cloudflare:workers";

export const BASE_URL = "http://spana.test";

export type ApiResponse = { status: number; headers: Headers; body: unknown; text: string };

type RequestOptions = {
  jwt?: string;
  body?: unknown;
  rawBody?: string | Uint8Array;
  headers?: Record<string, string>;
};

/** Calls the real Worker (routes, auth, rooms, D1) the way a client would. */
export async function api(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse> {
  const headers = new Headers(options.headers);
  if (options.jwt) headers.set("Authorization", `Bearer ${options.jwt}`);
  let body: string | Uint8Array | undefined = options.rawBody;
  if (options.body !== undefined) {
    headers.set("Content-Type", "application/json");
    body = JSON.stringify(options.body);
  }
  const response = await exports.default.fetch(`${BASE_URL}${path}`, { method, headers, body });
  const text = await response.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  return { status: response.status, headers: response.headers, body: parsed, text };
}

/** Reads a field path from an untyped JSON body for assertions. */
export function field(body: unknown, ...path: string[]): unknown {
  let current: unknown = body;
  for (const key of path) {
    if (typeof current !== "object" || current === null) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}
