import { z } from "zod";
import type { Limits } from "../config";
import {
  CloseCode,
  Envelope,
  type ErrorCode,
  MAX_FRAME_BYTES,
  parseUntrustedJson,
  type ServerEventPayload,
} from "../protocol";
import type { BudgetLimits, FrameBudget } from "./frame-budget";
import { encode, sendFrame } from "./socket-state";

/** A refusal of one frame; the socket stays open. */
export class ChatError {
  constructor(
    readonly code: ErrorCode,
    readonly message: string,
    readonly clientMessageId?: string,
    readonly retryAfterMs?: number,
  ) {}
}

/** A refusal as the `chat-error` payload, with whatever context the client needs to match it up. */
export function chatErrorPayload(error: ChatError, bookingId?: string): ServerEventPayload<"chat-error"> {
  return {
    code: error.code,
    message: error.message,
    ...(bookingId ? { bookingId } : {}),
    ...(error.clientMessageId ? { clientMessageId: error.clientMessageId } : {}),
    ...(error.retryAfterMs !== undefined ? { retryAfterMs: error.retryAfterMs } : {}),
  };
}

/** Sends a refusal as `chat-error`. */
export function sendChatError(ws: WebSocket, error: ChatError, bookingId?: string): void {
  sendFrame(ws, encode("chat-error", chatErrorPayload(error, bookingId)));
}

type Schemas = Record<string, z.core.$ZodType>;
export type FrameOf<S extends Schemas> = {
  [K in keyof S & string]: { event: K; data: z.output<S[K]> };
}[keyof S & string];

const encoder = new TextEncoder();

/**
 * Counts the frame against the connection's budget: true when it must be ignored (dropped, or the
 * connection closed with 4429 for flooding).
 */
export function closeIfOverBudget(ws: WebSocket, budget: FrameBudget, limits: BudgetLimits): boolean {
  const verdict = budget.take(ws, limits);
  if (verdict === "handle") return false;
  if (verdict === "close") closeQuietly(ws, CloseCode.tooManyFrames, "too_many_frames");
  return true;
}

/** The frame budget of a logged-in connection, from the configuration. */
export function socketBudget(
  limits: Pick<Limits, "frameRatePerSocket" | "frameBurstPerSocket">,
): BudgetLimits {
  return { perSecond: limits.frameRatePerSocket, burst: limits.frameBurstPerSocket };
}

/**
 * A text frame with U+FFFD: the runtime decodes invalid UTF-8 that way, so this is how a frame
 * that was not UTF-8 looks here. Closed with 1007 (RFC 6455 section 8.1); true when closed.
 */
export function misencoded(ws: WebSocket, raw: string | ArrayBuffer): boolean {
  if (typeof raw !== "string" || !raw.includes("\uFFFD")) return false;
  closeQuietly(ws, CloseCode.invalidData, "invalid_utf8");
  return true;
}

/** Closes without throwing (a socket may already be closing). */
export function closeQuietly(ws: WebSocket, code: number, reason: string): void {
  try {
    ws.close(code, reason);
  } catch {
    // Already closing.
  }
}

/** UTF-8 size, computed only when the string could exceed the limit (a UTF-16 unit is at most 3 bytes). */
export function frameTooLarge(raw: string, maxBytes: number): boolean {
  if (raw.length > maxBytes) return true;
  return raw.length * 3 > maxBytes && encoder.encode(raw).byteLength > maxBytes;
}

/** Turns a raw frame into one of the events in `schemas`, or explains what is wrong with it. */
export function parseFrame<S extends Schemas>(
  raw: string | ArrayBuffer,
  schemas: S,
  maxFrameBytes = MAX_FRAME_BYTES,
): FrameOf<S> | ChatError {
  if (typeof raw !== "string") return new ChatError("invalid_payload", "Binary frames are not supported");
  if (frameTooLarge(raw, maxFrameBytes)) return new ChatError("invalid_payload", "Frame is too large");
  const json = parseUntrustedJson(raw);
  if (!json.ok) return new ChatError("invalid_payload", `Frame ${json.reason}`);
  const envelope = Envelope.safeParse(json.value);
  if (!envelope.success) {
    return new ChatError("invalid_payload", 'Frame must be {"event": string, "data": object}');
  }
  const { event, data } = envelope.data;
  // hasOwn, so "__proto__" or "toString" never find an inherited property.
  const schema = Object.hasOwn(schemas, event) ? schemas[event] : undefined;
  if (!schema) return new ChatError("invalid_payload", `Unknown event "${event}"`);
  const parsed = z.safeParse(schema, data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? ` at ${issue.path.join(".")}` : "";
    return new ChatError(
      "invalid_payload",
      `Invalid ${event} payload${where}: ${issue?.message ?? "invalid"}`,
    );
  }
  return { event, data: parsed.data } as FrameOf<S>;
}
