import * as z from "zod/mini";
import { Count, EntityId, Seq, text } from "./ids";
import { depthOf, keyCount } from "./json-safety";
import { PartyRole } from "./roles";

/**
 * Free-form JSON the client attaches to a message: an object of at most 2 KB as JSON, nested at
 * most 16 deep, with at most 100 keys of at most 64 characters, and numbers that JSON can write back
 * (nothing beyond ±1.8e308). It is checked, never rebuilt, so it is stored and sent exactly as
 * accepted (a key such as `__proto__` included).
 */
/** Any JSON value: what metadata is made of (typed so, it crosses RPC as itself). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export const Metadata = z
  .custom<{ [key: string]: JsonValue }>(
    (value) => typeof value === "object" && value !== null && !Array.isArray(value),
    "metadata must be a JSON object",
  )
  .check(
    (ctx) => {
      const problem = metadataProblem(ctx.value);
      if (problem) ctx.issues.push({ code: "custom", message: problem, input: ctx.value });
    },
    z.meta({
      type: "object",
      description: "Free-form JSON object, at most 2048 bytes, 16 levels and 100 keys",
    }),
  );
export type Metadata = z.infer<typeof Metadata>;

export const MAX_METADATA_DEPTH = 16;
export const MAX_METADATA_KEYS = 100;
export const MAX_METADATA_KEY_CHARS = 64;

function metadataProblem(value: { [key: string]: JsonValue }): string | null {
  if (depthOf(value) > MAX_METADATA_DEPTH)
    return `metadata is nested too deeply (at most ${MAX_METADATA_DEPTH} levels)`;
  if (keyCount(value) > MAX_METADATA_KEYS) return `metadata has too many keys (at most ${MAX_METADATA_KEYS})`;
  const stack: unknown[] = [value];
  for (let node = stack.pop(); node !== undefined || stack.length > 0; node = stack.pop()) {
    // JSON.parse reads 1e400 as Infinity, which JSON.stringify writes back as null: refused, so
    // what is stored is what was sent.
    if (typeof node === "number" && !Number.isFinite(node)) return "metadata numbers must be finite";
    if (node === null || typeof node !== "object") continue;
    for (const [key, child] of Object.entries(node)) {
      if (!Array.isArray(node) && key.length > MAX_METADATA_KEY_CHARS) {
        return `metadata keys are at most ${MAX_METADATA_KEY_CHARS} characters`;
      }
      stack.push(child);
    }
  }
  return null;
}

export const ClientMessageId = text(1, 64);

/** A file a message carries (uploaded with `POST /chat/booking/:id/attachments`). */
export const AttachmentRef = z.object({
  id: z.string(),
  name: z.string(),
  contentType: z.string(),
  size: Count,
});
export type AttachmentRef = z.infer<typeof AttachmentRef>;

/** Attachments one message may carry. */
export const MAX_ATTACHMENTS_PER_MESSAGE = 5;

/** What every stored message is, whichever conversation holds it; each use extends it. */
export const MessageCore = z.object({
  id: z.string(),
  seq: Seq,
  senderId: EntityId,
  content: z.string(),
  clientMessageId: z.nullable(z.string()),
  metadata: z.nullable(Metadata),
  createdAt: z.string(),
  /** Its author's data was erased: it keeps its place, sender and time; content is empty, no metadata or files. */
  erased: z.optional(z.literal(true)),
});
export type MessageCore = z.infer<typeof MessageCore>;

/**
 * A booking chat message, as broadcast and as returned by history. The optional fields appear only
 * when they apply: `attachments` when it carries files; `masked` when the contact guard hid
 * contact details from the other party (who reads `[hidden]` in their place; the sender and admins
 * read the original); `hidden` when an admin hid it (parties then get an empty `content`, no
 * metadata and no attachments; admins still see it all).
 */
export const Message = z.extend(MessageCore, {
  bookingId: EntityId,
  senderRole: PartyRole,
  chatType: z.literal("booking"),
  isRead: z.boolean(),
  attachments: z.optional(z.array(AttachmentRef)),
  masked: z.optional(z.literal(true)),
  hidden: z.optional(z.literal(true)),
});
export type Message = z.infer<typeof Message>;

/** A message in a provider's support thread with the admins (chatType `admin`). */
export const SupportMessage = z.extend(MessageCore, {
  providerId: EntityId,
  senderRole: z.enum(["provider", "admin"]),
  chatType: z.literal("admin"),
  isRead: z.boolean(),
});
export type SupportMessage = z.infer<typeof SupportMessage>;

/**
 * A message as the admin listing shows it (from D1): either conversation kind, its conversation
 * named by `bookingId` or `providerId`.
 */
export const ListedMessage = z.extend(MessageCore, {
  chatType: z.enum(["booking", "admin"]),
  bookingId: z.nullable(z.string()),
  providerId: z.nullable(z.string()),
  senderRole: z.string(),
});
export type ListedMessage = z.infer<typeof ListedMessage>;

/** What a provider or an admin writes in a support thread, over HTTP or the inbox socket. */
export const SupportPost = z.strictObject({
  message: z.string(),
  clientMessageId: z.optional(ClientMessageId),
  metadata: z.optional(Metadata),
});
export type SupportPost = z.infer<typeof SupportPost>;

/** Who sent a stored message, as the message stores share it. */
export type SenderRole = Message["senderRole"] | SupportMessage["senderRole"];
