import { z } from "zod";
import type { DeliveryItem } from "../delivery/items";
import type { Refusal } from "../errors";
import type { ServerEventName } from "../protocol";

/** A server event for one connection, its data already JSON (a stored message is serialized once). */
export type OutEvent = { event: ServerEventName; data: string };

/**
 * What one client command comes to, whatever carried it: the events for the sender's connection,
 * in order, and what a transport that acknowledges (Socket.IO) answers the command with. What
 * others hear goes out through the object's broadcast, durable log or live path, never through
 * this. Plain data, so it crosses RPC from the booking room to a Socket.IO hub.
 */
export type Outcome = {
  reply: OutEvent[];
  /** The acknowledgement, as JSON. */
  ack: string;
  /** A join that went through: the booking's last seq then (replay and live messages meet there). */
  joined?: { bookingId: string; lastSeq: number };
  /**
   * For a command a Socket.IO hub forwarded: what the room would have pushed to that hub next
   * (the new message, and anything before it), handed over with the answer instead of a call.
   */
  handed?: DeliveryItem[];
};

/** Nothing to say back (a read mark, a typing indicator). */
export const SILENT: Outcome = Object.freeze({ reply: [], ack: "null" });

/**
 * A refusal as every socket transport renders it: a `chat-error` event (naming the booking only
 * when it is the connection's own, so another id is not echoed back) and an `{error}` acknowledgement.
 */
export function refused(refusal: Refusal, bookingId?: string): Outcome {
  const data = {
    code: refusal.code,
    message: refusal.message,
    ...(bookingId ? { bookingId } : {}),
    ...(refusal.clientMessageId ? { clientMessageId: refusal.clientMessageId } : {}),
    ...(refusal.retryAfterMs !== undefined ? { retryAfterMs: refusal.retryAfterMs } : {}),
  };
  return {
    reply: [{ event: "chat-error", data: JSON.stringify(data) }],
    ack: JSON.stringify({ error: { code: refusal.code, message: refusal.message } }),
  };
}

type Schemas = Record<string, z.core.$ZodType>;

/** A command of `schemas`, typed by its name. */
export type CommandOf<S extends Schemas> = {
  [K in keyof S & string]: { event: K; data: z.output<S[K]> };
}[keyof S & string];

/** Checks a command's name and data against `schemas`; a refusal says what is wrong. */
export function parseCommand<S extends Schemas>(
  schemas: S,
  name: string,
  data: unknown,
  served: string,
): CommandOf<S> | Refusal {
  // hasOwn, so "__proto__" or "toString" never find an inherited property.
  const schema = Object.hasOwn(schemas, name) ? schemas[name] : undefined;
  if (!schema) return { code: "invalid_payload", message: `Unknown event "${name.slice(0, 64)}"${served}` };
  const parsed = z.safeParse(schema, data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? ` at ${issue.path.join(".")}` : "";
    return {
      code: "invalid_payload",
      message: `Invalid ${name} payload${where}: ${issue?.message ?? "invalid"}`,
    };
  }
  return { event: name, data: parsed.data } as CommandOf<S>;
}

export function isRefusal(value: unknown): value is Refusal {
  return typeof value === "object" && value !== null && "code" in value && "message" in value;
}
