/** What to do with one incoming frame. */
export type FrameVerdict = "handle" | "drop" | "close";

export type BudgetLimits = { perSecond: number; burst: number };

type Bucket = { tokens: number; at: number };

/**
 * Every frame a connection sends costs one token, whatever the frame is: a ping, a bad frame, an
 * unknown event, a read mark. Tokens refill at `perSecond` up to `burst`. Past the budget a frame
 * is dropped unread; a connection that keeps sending runs into debt, and at `burst` frames of debt
 * it is closed. Handling a frame costs far more than counting it, so this runs before anything
 * else looks at the frame.
 *
 * Kept in memory, keyed by the socket: a hibernated or evicted object starts every socket with a
 * full bucket again, which is what an idle socket would have by then anyway.
 */
export class FrameBudget {
  private readonly buckets = new WeakMap<WebSocket, Bucket>();

  /** Counts one frame from `ws` against `limits`. */
  take(ws: WebSocket, limits: BudgetLimits, now = Date.now()): FrameVerdict {
    const bucket = this.buckets.get(ws) ?? { tokens: limits.burst, at: now };
    const refilled = Math.min(limits.burst, bucket.tokens + ((now - bucket.at) / 1000) * limits.perSecond);
    const tokens = refilled - 1;
    this.buckets.set(ws, { tokens, at: now });
    if (tokens >= 0) return "handle";
    return tokens <= -limits.burst ? "close" : "drop";
  }

  /** Starts `ws` afresh with a full bucket (a Socket.IO connection that has just logged in). */
  reset(ws: WebSocket): void {
    this.buckets.delete(ws);
  }
}
