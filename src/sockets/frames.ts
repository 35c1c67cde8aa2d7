import type { Limits } from "../config";
import { CloseCode } from "../protocol";
import type { BudgetLimits, FrameBudget } from "./frame-budget";

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

const encoder = new TextEncoder();

/** UTF-8 size, computed only when the string could exceed the limit (a UTF-16 unit is at most 3 bytes). */
export function frameTooLarge(raw: string, maxBytes: number): boolean {
  if (raw.length > maxBytes) return true;
  return raw.length * 3 > maxBytes && encoder.encode(raw).byteLength > maxBytes;
}
