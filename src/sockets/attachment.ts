import { z } from "zod";
import { UserRole } from "../protocol";

/** Who is on a connection, as a verified JWT said, and until when. */
export const Peer = z.object({ userId: z.string(), role: UserRole, jwtExpiresAt: z.number() });
export type Peer = z.infer<typeof Peer>;

/**
 * What every socket carries in its WebSocket attachment, so it survives hibernation and eviction:
 * its id (for per-connection limits), when it opened, who is on it (null until a Socket.IO
 * connection logs in) and the holding object's own state for it, under `state`.
 */
export type Attachment<S> = { v: 2; id: string; openedAt: number; peer: Peer | null; state: S };

const Base = z.object({ v: z.literal(2), id: z.string(), openedAt: z.number(), peer: Peer.nullable() });

/** An object's per-connection state: its schema, and how a connection from an earlier release reads. */
export type StateCodec<S> = {
  schema: z.ZodType<S>;
  /** An attachment written before `v: 2`, as this kind of object wrote it; null if it is not one. */
  upgrade?: (raw: unknown) => Attachment<S> | null;
};

/**
 * Reads and writes attachments, decoding each once per wake-up: the object's memory is only a
 * cache of what the socket carries.
 */
export class Attachments<S> {
  private readonly cache = new WeakMap<WebSocket, Attachment<S>>();

  constructor(private readonly codec: StateCodec<S>) {}

  read(ws: WebSocket): Attachment<S> | null {
    const cached = this.cache.get(ws);
    if (cached) return cached;
    const raw: unknown = ws.deserializeAttachment();
    const base = Base.safeParse(raw);
    let attachment: Attachment<S> | null = null;
    if (base.success) {
      const state = this.codec.schema.safeParse((raw as { state?: unknown }).state);
      if (state.success) attachment = { ...base.data, state: state.data };
    } else {
      attachment = this.codec.upgrade?.(raw) ?? null;
    }
    if (attachment) this.cache.set(ws, attachment);
    return attachment;
  }

  write(ws: WebSocket, attachment: Attachment<S>): void {
    ws.serializeAttachment(attachment);
    this.cache.set(ws, attachment);
  }
}

/** Tags a socket with its user in one role: an admin and a customer sharing an id are two users. */
export function userTag(userId: string, role: UserRole): string {
  return `user:${role}:${userId}`;
}
