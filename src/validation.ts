import type { Context } from "hono";
import { z } from "zod";
import { ApiError } from "./errors";
import { EntityId, parseUntrustedJson } from "./protocol";

function describe(error: z.core.$ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "Invalid request";
  return issue.path.length ? `${issue.path.join(".")}: ${issue.message}` : issue.message;
}

/** Parses untrusted input or answers 400 with what is wrong. */
export function parseOr400<T extends z.core.$ZodType>(schema: T, input: unknown): z.output<T> {
  const parsed = z.safeParse(schema, input);
  if (!parsed.success) throw new ApiError("invalid_request", describe(parsed.error));
  return parsed.data;
}

/** Parses a JSON body text; an empty body counts as `{}` where `emptyAllowed`. */
export function parseJsonText<T extends z.core.$ZodType>(
  schema: T,
  text: string,
  emptyAllowed = false,
): z.output<T> {
  if (text.trim() === "" && emptyAllowed) return parseOr400(schema, {});
  const json = parseUntrustedJson(text);
  if (!json.ok) throw new ApiError("invalid_request", `Body ${json.reason}`);
  return parseOr400(schema, json.value);
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** The request body as text; a body that is not valid UTF-8 is refused, never patched with U+FFFD. */
export async function bodyText(c: Context): Promise<string> {
  const bytes = await c.req.arrayBuffer();
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw new ApiError("invalid_request", "Body is not valid UTF-8");
  }
}

export async function jsonBody<T extends z.core.$ZodType>(c: Context, schema: T): Promise<z.output<T>> {
  return parseJsonText(schema, await bodyText(c));
}

export function bookingIdParam(c: Context): string {
  return parseOr400(EntityId, c.req.param("id"));
}
