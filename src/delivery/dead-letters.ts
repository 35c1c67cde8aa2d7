import { and, count, desc, eq, isNull } from "drizzle-orm";
import { database } from "../db/client";
import { deadLetters } from "../db/schema";
import { describeError } from "../log";

export type DeadLetter = {
  source: string;
  consumer: string;
  position: string;
  error: unknown;
  payload: unknown;
};

/**
 * Sets an item aside in D1. Throws when D1 does not take it: then nothing is skipped, and the
 * consumer retries later, as in any outage. The log line names the item, never its content.
 */
export async function recordDeadLetter(d1: D1Database, letter: DeadLetter): Promise<void> {
  const error = describeError(letter.error);
  await database(d1)
    .insert(deadLetters)
    .values({
      source: letter.source,
      consumer: letter.consumer,
      position: letter.position,
      error,
      payload: JSON.stringify(letter.payload ?? null),
      createdAt: new Date().toISOString(),
    })
    .run();
  console.error(`dead letter: ${letter.consumer} set aside ${letter.source} ${letter.position}`, error);
}

export function listDeadLetters(d1: D1Database, limit = 100) {
  return database(d1).select().from(deadLetters).orderBy(desc(deadLetters.id)).limit(limit);
}

/** `/health` counts dead letters up to this many, so a flood of them never makes it scan a table. */
export const DEAD_LETTERS_COUNTED = 1000;

/** How many dead letters are unresolved, up to DEAD_LETTERS_COUNTED. */
export function countDeadLettersQuery(d1: D1Database) {
  const db = database(d1);
  const some = db
    .select({ id: deadLetters.id })
    .from(deadLetters)
    .where(isNull(deadLetters.resolvedAt))
    .limit(DEAD_LETTERS_COUNTED)
    .as("some");
  return db.select({ n: count() }).from(some);
}

export function getDeadLetter(d1: D1Database, id: number) {
  return database(d1).select().from(deadLetters).where(eq(deadLetters.id, id)).get();
}

/** Marks a dead letter resolved (retried or discarded) by `adminId`, unless it already was. */
export async function resolveDeadLetter(
  d1: D1Database,
  id: number,
  resolution: "retried" | "discarded",
  adminId: string,
): Promise<boolean> {
  const result = await database(d1)
    .update(deadLetters)
    .set({ resolvedAt: new Date().toISOString(), resolution, resolvedBy: adminId })
    .where(and(eq(deadLetters.id, id), isNull(deadLetters.resolvedAt)))
    .run();
  return (result.meta.changes ?? 0) > 0;
}

export async function countDeadLetters(d1: D1Database): Promise<number> {
  const [row] = await countDeadLettersQuery(d1);
  return row?.n ?? 0;
}
