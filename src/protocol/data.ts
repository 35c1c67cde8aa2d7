import * as z from "zod/mini";
import { Booking } from "./booking";
import { PageLimit } from "./http";
import { Count, EntityId, text } from "./ids";
import { Message, SupportMessage } from "./message";
import { PartyRole } from "./roles";

/** `YYYY-MM-DD`, a UTC day. */
const Day = z.string().check(z.regex(/^\d{4}-\d{2}-\d{2}$/, "must be a day as YYYY-MM-DD"));

/** Query of `GET /chat/admin/archives`: one day's archive objects, or all of them, oldest first. */
export const ArchivesQuery = z.strictObject({
  day: z.optional(Day),
  limit: PageLimit,
  cursor: z.optional(text(1, 1000)),
});
export type ArchivesQuery = z.infer<typeof ArchivesQuery>;

/** One archive object in R2: the messages of one shard and day that D1 no longer holds, as NDJSON. */
export const Archive = z.object({
  key: z.string(),
  shard: z.int(),
  day: z.string(),
  messages: Count,
  /** The first and last message it holds, by (createdAt, seq). */
  first: z.string(),
  last: z.string(),
  size: Count,
  uploadedAt: z.string(),
});
export type Archive = z.infer<typeof Archive>;

export const ArchivesResponse = z.object({ archives: z.array(Archive), nextCursor: z.nullable(z.string()) });
export type ArchivesResponse = z.infer<typeof ArchivesResponse>;

/** Body of `POST /admin/users/:userId/erase`. */
export const EraseBody = z.strictObject({ reason: text(1, 500) });

export const ErasureStatus = z.enum(["pending", "running", "done"]);
export type ErasureStatus = z.infer<typeof ErasureStatus>;

/** `202 {"erasure": {id, status}}`: the erasure was accepted (or one for this user already runs). */
export const EraseResponse = z.object({ erasure: z.object({ id: z.string(), status: ErasureStatus }) });

/**
 * An erasure's progress: how many of the user's messages lost their content in each place, the
 * files deleted and the inboxes removed, so far.
 */
export const ErasureProgress = z.object({
  conversations: Count,
  roomMessages: Count,
  supportMessages: Count,
  files: Count,
  d1Messages: Count,
  archiveObjects: Count,
  archivedMessages: Count,
  inboxes: Count,
});
export type ErasureProgress = z.infer<typeof ErasureProgress>;

export const Erasure = z.object({
  id: z.string(),
  userId: EntityId,
  status: ErasureStatus,
  reason: z.string(),
  progress: ErasureProgress,
  createdAt: z.string(),
  completedAt: z.nullable(z.string()),
});
export type Erasure = z.infer<typeof Erasure>;
export const ErasureResponse = z.object({ erasure: Erasure });

/**
 * One line of `GET /admin/users/:userId/export` (NDJSON): a header, then each booking the user is
 * a party of with its messages (as the user reads them) and the user's read position, then their
 * support thread, then an `end` line with the counts (a cut-off download has none).
 */
export const ExportLine = z.discriminatedUnion("type", [
  z.object({ type: z.literal("export"), userId: EntityId, exportedAt: z.string() }),
  z.object({ type: z.literal("booking"), party: PartyRole, booking: Booking }),
  z.object({ type: z.literal("message"), message: Message }),
  z.object({ type: z.literal("read"), bookingId: EntityId, party: PartyRole, seq: Count }),
  z.object({ type: z.literal("support-message"), message: SupportMessage }),
  z.object({ type: z.literal("end"), bookings: Count, messages: Count }),
]);
export type ExportLine = z.infer<typeof ExportLine>;
