/**
 * The streams a conversation's consumers follow, each numbered from 1 and only growing: its
 * messages (seq), its lifecycle events (id), each party's read cursor (seq), the booking row's
 * version (the D1 mirror), and when a party was last notified (ms; the notification webhook's
 * coalescing). A new stream is added here and where it is produced and read; nothing
 * else names streams.
 */
export type Stream = "messages" | "events" | "customerReads" | "providerReads" | "booking" | "notified";

/** How far a consumer has followed each stream; a stream it has not started is at 0. */
export type Position = Readonly<Partial<Record<Stream, number>>>;

export const START: Position = Object.freeze({});

/** Where `position` stands in `stream`. */
export function at(position: Position, stream: Stream): number {
  return position[stream] ?? 0;
}

/** The later of two positions, stream by stream. */
export function later(a: Position, b: Position): Position {
  const out: Partial<Record<Stream, number>> = { ...a };
  for (const [stream, n] of Object.entries(b) as [Stream, number][]) out[stream] = Math.max(at(a, stream), n);
  return out;
}

/** Whether `head` is ahead of `position` in any stream. */
export function isAhead(head: Position, position: Position): boolean {
  return (Object.entries(head) as [Stream, number][]).some(([stream, n]) => n > at(position, stream));
}

/** `position` moved to `n` in `stream` (never back). */
export function advance(position: Position, stream: Stream, n: number): Position {
  return n > at(position, stream) ? { ...position, [stream]: n } : position;
}

/** A consumer's position and, while it fails, its retry state; persisted by name. */
export type StoredPosition = { at: Position; failures: number; retryAt: number | null };
export type StoredPositions = Record<string, StoredPosition>;

/**
 * A stored position as written by any release: `{at, failures, retryAt}`, or the earlier flat
 * `{seq, event, read, failures, retryAt}`, where `event` was the booking version for the D1 copy
 * and `read` the other party's cursor for an inbox (`inbox:{role}:{userId}`).
 */
export function readStoredPosition(name: string, value: unknown): StoredPosition | null {
  if (typeof value !== "object" || value === null) return null;
  const v = value as Record<string, unknown>;
  const failures = typeof v.failures === "number" ? v.failures : 0;
  const retryAt = typeof v.retryAt === "number" ? v.retryAt : null;
  if (typeof v.at === "object" && v.at !== null) return { at: v.at as Position, failures, retryAt };
  const n = (key: string) => (typeof v[key] === "number" ? (v[key] as number) : 0);
  const events: Stream = name === "d1" ? "booking" : "events";
  const reads: Stream = name.startsWith("inbox:customer:") ? "providerReads" : "customerReads";
  return { at: { messages: n("seq"), [events]: n("event"), [reads]: n("read") }, failures, retryAt };
}

const LABELS: Record<Stream, string> = {
  messages: "seq",
  events: "event",
  customerReads: "read",
  providerReads: "read",
  // The D1 mirror's version was labelled as an event before streams were named.
  booking: "event",
  notified: "notified",
};

/** A position as dead letters name it to admins: `seq 12`, `event 3`, `read 9`. */
export function positionLabel(stream: Stream, n: number): string {
  return `${LABELS[stream]} ${n}`;
}
