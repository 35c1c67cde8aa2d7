import * as z from "zod/mini";
import { Booking, BookingStatus } from "./booking";
import { Count, EntityId, text } from "./ids";
import { DEFAULT_HISTORY_LIMIT, MAX_HISTORY_LIMIT } from "./limits";
import { AttachmentRef, ListedMessage, Message, SupportMessage, SupportPost } from "./message";
import { PartyRole } from "./roles";

/**
 * A whole number in a query string, from `min` to `max`: decimal digits only, so `0x10`, `1e2`,
 * ` 5`, `0b11` and an empty value are refused rather than read as some number. Callers of the SDK
 * may pass a number; it travels as its digits.
 */
export const queryInt = (min: number, max: number) =>
  z.pipe(
    z.union([z.string().check(z.regex(/^\d{1,16}$/, "must be a whole number in decimal digits")), z.int()]),
    z.pipe(
      z.transform((value: string | number) => Number(value)),
      z.int().check(z.minimum(min), z.maximum(max)),
    ),
  );
const SeqCursor = queryInt(0, Number.MAX_SAFE_INTEGER);
/** A page size in a query string: 1 to MAX_HISTORY_LIMIT, DEFAULT_HISTORY_LIMIT when absent. */
/**
 * A listing's cursor holds every D1 shard's position and read-replica bookmark (about 250
 * characters a shard): this fits 40 shards and stays within a URL's limits.
 */
export const MAX_CURSOR_CHARS = 10_000;

export const PageLimit = z._default(queryInt(1, MAX_HISTORY_LIMIT), DEFAULT_HISTORY_LIMIT);

/** Query of `GET /chat/booking/:id`. `before` and `after` are seq cursors; at most one at a time. */
export const HistoryQuery = z
  .strictObject({
    limit: PageLimit,
    before: z.optional(SeqCursor),
    after: z.optional(SeqCursor),
  })
  .check(
    z.refine((q) => q.before === undefined || q.after === undefined, {
      message: "use either before or after, not both",
    }),
  );
export type HistoryQuery = z.infer<typeof HistoryQuery>;

export const HistoryResponse = z.object({
  bookingId: EntityId,
  chatActive: z.boolean(),
  chatTerminatedAt: z.nullable(z.string()),
  messages: z.array(Message),
  /** Pass as `before` to get the previous page; null when this page starts at the first message. */
  nextBefore: z.nullable(z.int()),
});
export type HistoryResponse = z.infer<typeof HistoryResponse>;

export const ChatTokenResponse = z.object({
  bookingId: EntityId,
  role: PartyRole,
  chatToken: z.string(),
  chatActive: z.boolean(),
});
export type ChatTokenResponse = z.infer<typeof ChatTokenResponse>;

export const BookingResponse = z.object({ booking: Booking });
export const AcceptResponse = z.object({
  booking: Booking,
  chatToken: z.string(),
  waitingForPayment: z.boolean(),
});
export type AcceptResponse = z.infer<typeof AcceptResponse>;

/** One of the caller's chats, as `GET /chat/my-chats` lists them. */
export const ChatSummary = z.object({
  bookingId: EntityId,
  /** The two parties, so an app can name the other one (absent in chats stored before they were added). */
  customerId: z.optional(EntityId),
  providerId: z.optional(EntityId),
  status: BookingStatus,
  chatActive: z.boolean(),
  lastMessage: z.nullable(Message),
  unreadCount: Count,
  lastActivityAt: z.string(),
});
export type ChatSummary = z.infer<typeof ChatSummary>;

export const MyChatsResponse = z.object({ chats: z.array(ChatSummary) });
export type MyChatsResponse = z.infer<typeof MyChatsResponse>;

/** Query of `GET /chat/admin/audit`. */
export const AdminAuditQuery = z.strictObject({
  adminId: z.optional(EntityId),
  limit: PageLimit,
});

/** Query of `GET /admin/ws`: which admin feed shard to watch (required when there is more than one). */
export const AdminFeedQuery = z.strictObject({ shard: z.optional(SeqCursor) });

/** `GET /admin/feed`: how the admin feed is sharded, and the socket path of each shard. */
export const AdminFeedResponse = z.object({
  shards: z.int().check(z.positive()),
  sockets: z.array(z.string()),
});
export type AdminFeedResponse = z.infer<typeof AdminFeedResponse>;

/** Body of `POST /chat/support/messages` and `POST /chat/support/:providerId/messages`. */
export const SupportMessageBody = SupportPost;
export type SupportMessageBody = SupportPost;

export const SupportHistoryResponse = z.object({
  providerId: EntityId,
  messages: z.array(SupportMessage),
  nextBefore: z.nullable(z.int()),
});
export type SupportHistoryResponse = z.infer<typeof SupportHistoryResponse>;

export const SupportThreadSummary = z.object({
  providerId: EntityId,
  messageCount: Count,
  lastMessage: SupportMessage,
});
export const SupportThreadsResponse = z.object({ threads: z.array(SupportThreadSummary) });

const IsoDate = z.iso.datetime({ offset: true });

/** Query of `GET /chat/admin/messages`. */
export const AdminMessagesQuery = z.strictObject({
  bookingId: z.optional(EntityId),
  senderId: z.optional(EntityId),
  chatType: z.optional(z.enum(["booking", "admin"])),
  since: z.optional(IsoDate),
  until: z.optional(IsoDate),
  limit: PageLimit,
  cursor: z.optional(text(1, MAX_CURSOR_CHARS)),
});
export type AdminMessagesQuery = z.infer<typeof AdminMessagesQuery>;

/** Query of `GET /chat/admin/bookings`: every booking, newest first, optionally of one status or party. */
export const AdminBookingsQuery = z.strictObject({
  status: z.optional(BookingStatus),
  customerId: z.optional(EntityId),
  providerId: z.optional(EntityId),
  limit: PageLimit,
  cursor: z.optional(text(1, MAX_CURSOR_CHARS)),
});
export type AdminBookingsQuery = z.infer<typeof AdminBookingsQuery>;

export const AdminBookingsResponse = z.object({
  bookings: z.array(Booking),
  nextCursor: z.nullable(z.string()),
});
export type AdminBookingsResponse = z.infer<typeof AdminBookingsResponse>;

export const AdminMessagesResponse = z.object({
  messages: z.array(ListedMessage),
  /** Matches counted up to 1,000 (never the whole table); `totalCapped` when there are more. */
  total: Count,
  totalCapped: z.optional(z.literal(true)),
  nextCursor: z.nullable(z.string()),
  /**
   * Where D1's history starts: messages created before it were archived to R2 (`GET
   * /chat/admin/archives`); null when nothing is archived (D1_RETENTION_DAYS unset).
   */
  heldSince: z.nullable(z.string()),
});
export type AdminMessagesResponse = z.infer<typeof AdminMessagesResponse>;

/** Body of the development-only `POST /dev/token`. */
export const DevTokenBody = z.strictObject({
  role: z.enum(["customer", "service_provider", "admin"]),
  userId: EntityId,
});

/** Query of `POST /chat/booking/:id/attachments`: the file's name as the uploader's device calls it. */
export const UploadQuery = z.strictObject({ name: text(1, 200) });

export const UploadResponse = z.object({ attachment: AttachmentRef });
export type UploadResponse = z.infer<typeof UploadResponse>;

/** Why someone reports a message, freezes or unfreezes a chat, or hides a message. */
export const ModerationBody = z.strictObject({ reason: text(1, 500) });
export type ModerationBody = z.infer<typeof ModerationBody>;

/** Body of hiding a message: the reason is the admin's to give or not. */
export const HideBody = z.strictObject({ reason: z.optional(text(1, 500)) });

export const ReportResponse = z.object({
  report: z.object({ bookingId: EntityId, seq: z.int(), reason: z.string(), createdAt: z.string() }),
});

export const HideResponse = z.object({ message: Message });
export type HideResponse = z.infer<typeof HideResponse>;

/** One thing for admins to look at: contact details the guard found, or a party's report. */
export const Flag = z.object({
  id: z.int(),
  kind: z.enum(["contact", "report"]),
  bookingId: EntityId,
  seq: z.int(),
  senderId: z.string(),
  /** Who reported it (`report`); null for the contact guard. */
  reporterId: z.nullable(z.string()),
  /** The report's reason, or the kinds of contact details found (`phone,email`). */
  reason: z.string(),
  createdAt: z.string(),
});
export type Flag = z.infer<typeof Flag>;

/** Query of `GET /chat/admin/flags`: newest first, optionally of one kind or booking. */
export const AdminFlagsQuery = z.strictObject({
  kind: z.optional(z.enum(["contact", "report"])),
  bookingId: z.optional(EntityId),
  limit: PageLimit,
  cursor: z.optional(text(1, MAX_CURSOR_CHARS)),
});
export type AdminFlagsQuery = z.infer<typeof AdminFlagsQuery>;

export const AdminFlagsResponse = z.object({ flags: z.array(Flag), nextCursor: z.nullable(z.string()) });
export type AdminFlagsResponse = z.infer<typeof AdminFlagsResponse>;
