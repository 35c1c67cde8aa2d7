/**
 * How far a consumer has followed its conversation: the messages up to `seq`, the lifecycle
 * events up to `event` and (for an inbox) the other party's read cursor up to `read`. Every part
 * only grows, so a receiver can drop anything at or below what it already has.
 */
export type Position = { seq: number; event: number; read: number };

export const START: Position = Object.freeze({ seq: 0, event: 0, read: 0 });

/** A consumer's position and, while it fails, its retry state; persisted by name. */
export type StoredPosition = Position & { failures: number; retryAt: number | null };
export type StoredPositions = Record<string, StoredPosition>;

export function samePosition(a: Position, b: Position): boolean {
  return a.seq === b.seq && a.event === b.event && a.read === b.read;
}

/** The later of two positions, part by part. */
export function later(a: Position, b: Position): Position {
  return { seq: Math.max(a.seq, b.seq), event: Math.max(a.event, b.event), read: Math.max(a.read, b.read) };
}
