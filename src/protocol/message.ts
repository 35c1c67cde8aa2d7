import { z } from "zod";
import { EntityId } from "./ids";
import { PartyRole } from "./roles";

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
