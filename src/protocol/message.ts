import { z } from "zod";
import { EntityId } from "./ids";
import { PartyRole } from "./roles";

/** Free-form JSON the client attaches to a message (at most 2 KB as JSON). */
export const Metadata = z.record(z.string(), z.unknown());
export type Metadata = z.infer<typeof Metadata>;

export const ClientMessageId = z.string().min(1).max(64);

/** A stored chat message, as broadcast and as returned by history. */
export const Message = z.object({
  id: z.string(),
  bookingId: EntityId,
  seq: z.number().int().positive(),
  senderId: EntityId,
  senderRole: PartyRole,
  content: z.string(),
  chatType: z.literal("booking"),
  clientMessageId: z.string().nullable(),
  metadata: Metadata.nullable(),
  isRead: z.boolean(),
  createdAt: z.string(),
});
export type Message = z.infer<typeof Message>;

/** A message in a provider's support thread with the admins (chatType `admin`). */
export const SupportMessage = z.object({
  id: z.string(),
  providerId: EntityId,
  seq: z.number().int().positive(),
  senderId: EntityId,
  senderRole: z.enum(["provider", "admin"]),
  content: z.string(),
  chatType: z.literal("admin"),
  clientMessageId: z.string().nullable(),
  metadata: Metadata.nullable(),
  isRead: z.boolean(),
  createdAt: z.string(),
});
export type SupportMessage = z.infer<typeof SupportMessage>;

/** Who sent a stored message, as the message stores share it. */
export type SenderRole = Message["senderRole"] | SupportMessage["senderRole"];
