import * as z from "zod/mini";
import { CreateBookingBody, PaymentBody } from "./booking";
import {
  ArchivesQuery,
  ArchivesResponse,
  EraseBody,
  EraseResponse,
  ErasureResponse,
  ExportLine,
} from "./data";
import {
  AcceptResponse,
  AdminAuditQuery,
  AdminBookingsQuery,
  AdminBookingsResponse,
  AdminFeedResponse,
  AdminFlagsQuery,
  AdminFlagsResponse,
  AdminMessagesQuery,
  AdminMessagesResponse,
  BookingResponse,
  ChatTokenResponse,
  DevTokenBody,
  HideBody,
  HideResponse,
  HistoryQuery,
  HistoryResponse,
  ModerationBody,
  MyChatsResponse,
  ReportResponse,
  SupportHistoryResponse,
  SupportMessageBody,
  SupportThreadsResponse,
  UploadQuery,
  UploadResponse,
} from "./http";
import { Count } from "./ids";
import { SupportMessage } from "./message";

export const SupportMessageResponse = z.object({ message: SupportMessage });
export const DevTokenResponse = z.object({ token: z.string() });
export const HealthResponse = z.object({
  ok: z.boolean(),
  /** `degraded` while a dead letter is unresolved (the service runs; something needs an admin). */
  status: z.enum(["ok", "degraded", "misconfigured"]),
  problems: z.array(z.string()),
  /** Only for a caller with an admin JWT: items consumers set aside; null when D1 could not be read. */
  deadLetters: z.optional(z.nullable(Count)),
});
export const AdminAuditResponse = z.object({
  entries: z.array(
    z.object({ id: z.int(), adminId: z.string(), action: z.string(), target: z.string(), at: z.string() }),
  ),
});
export const DeadLetterEntry = z.object({
  id: z.int(),
  source: z.string(),
  consumer: z.string(),
  position: z.string(),
  error: z.string(),
  /** What was refused, as JSON text. */
  payload: z.nullable(z.string()),
  createdAt: z.string(),
  /** When an admin retried (successfully) or discarded it, and who; null while unresolved. */
  resolvedAt: z.nullable(z.string()),
  resolution: z.nullable(z.enum(["retried", "discarded"])),
  resolvedBy: z.nullable(z.string()),
});
export const DeadLettersResponse = z.object({ deadLetters: z.array(DeadLetterEntry) });
export const DeadLetterResponse = z.object({ deadLetter: DeadLetterEntry });
const JsonObject = z.record(z.string(), z.unknown());

/** Errors a route may answer with, by status, beyond 400 invalid_request and 401 unauthorized. */
type Errors = Partial<Record<403 | 404 | 409 | 413 | 415 | 429 | 503, string>>;

/**
 * One HTTP route: what it takes and what it answers. The server registers, authenticates and
 * validates every route from this table (src/routes/serve.ts), and the OpenAPI document and the
 * client SDK's typed calls are built from it, so the three cannot drift apart.
 */
export type HttpRoute = {
  method: "GET" | "POST";
  /** With `{name}` for each path parameter. */
  path: string;
  summary: string;
  /**
   * Who may call: any user's JWT, an admin's JWT, nobody in particular, or (payment) an admin JWT
   * or a webhook signature. The server enforces it from here, before the route's own code runs.
   */
  auth: "user" | "admin" | "none" | "user-or-signature";
  query?: z.ZodMiniObject;
  body?: z.ZodMiniType;
  /** A body the caller may leave out. */
  bodyOptional?: true;
  /** Request headers besides `Authorization`. */
  headers?: Record<string, string>;
  status: 200 | 201 | 202;
  /** The answer's shape; with `binaryResponse` and `responseType` `application/x-ndjson`, each line's. */
  response: z.ZodMiniType;
  errors?: Errors;
  /** The request body is raw bytes, not JSON: what they may be. */
  rawBody?: { types: string[]; description: string };
  /** The answer is raw bytes (its own `Content-Type`), not JSON; `response` is then unused. */
  binaryResponse?: true;
  /** A raw answer's `Content-Type`, when it is always the same (an NDJSON stream). */
  responseType?: string;
};

const LIFECYCLE_CONFLICTS =
  "Illegal transition (`booking_closed`, `already_accepted`, `not_accepted`, `payment_required`, `invalid_transition`)";
const lifecycle = (path: string, summary: string) =>
  ({
    method: "POST",
    path: `/bookings/{id}/${path}`,
    summary,
    auth: "user",
    status: 200,
    response: BookingResponse,
    errors: {
      403: "Not this booking's party (`forbidden`)",
      404: "No such booking",
      409: LIFECYCLE_CONFLICTS,
    },
  }) as const satisfies HttpRoute;

/** An admin freezes or unfreezes a booking's chat. */
const chatFreeze = (action: "freeze" | "unfreeze", summary: string) =>
  ({
    method: "POST",
    path: `/bookings/{id}/chat/${action}`,
    summary,
    auth: "admin",
    body: ModerationBody,
    status: 200,
    response: BookingResponse,
    errors: {
      404: "No such booking",
      409: "Booking closed (`booking_closed`)",
      503: "The audit trail cannot be written (`unavailable`)",
    },
  }) as const satisfies HttpRoute;

export const httpRoutes = {
  health: {
    method: "GET",
    path: "/health",
    summary:
      "Health: `{ok, problems}`, and `deadLetters` for a caller with an admin JWT; configuration problems are named, never their values",
    auth: "none",
    status: 200,
    response: HealthResponse,
    errors: { 503: "Misconfigured or D1 unreachable; `problems` says what" },
  },
  openApi: {
    method: "GET",
    path: "/openapi.json",
    summary: "This document",
    auth: "none",
    status: 200,
    response: JsonObject,
  },
  devToken: {
    method: "POST",
    path: "/dev/token",
    summary: "Development only: mint a user JWT for the try-it page (404 unless ENVIRONMENT=development)",
    auth: "none",
    body: DevTokenBody,
    status: 200,
    response: DevTokenResponse,
    errors: { 404: "Not a development deployment" },
  },
  devMeter: {
    method: "GET",
    path: "/dev/meter",
    summary:
      "Development only: what this isolate's objects have spent (SQLite rows, alarms, calls, D1 rows), for the benchmark",
    auth: "none",
    status: 200,
    response: z.record(z.string(), z.record(z.string(), z.number())),
    errors: { 404: "Not a development deployment" },
  },
  createBooking: {
    method: "POST",
    path: "/bookings",
    summary: "Create a booking (customers)",
    auth: "user",
    body: CreateBookingBody,
    status: 201,
    response: BookingResponse,
    errors: { 403: "Not a customer (`forbidden`)", 429: "Too many new bookings (`rate_limited`)" },
  },
  getBooking: {
    method: "GET",
    path: "/bookings/{id}",
    summary: "A booking, for its parties and admins (never with chat tokens)",
    auth: "user",
    status: 200,
    response: BookingResponse,
    errors: { 403: "Not this booking's party (`forbidden`)", 404: "No such booking" },
  },
  confirmPayment: {
    method: "POST",
    path: "/bookings/{id}/payment",
    summary:
      "Confirm payment: an admin JWT, or the payment webhook signed with `X-Signature: t=<unix seconds>,v1=<hex>`",
    auth: "user-or-signature",
    headers: {
      "X-Signature":
        '`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` under PAYMENT_WEBHOOK_SECRET, within 5 minutes; the body must then name `bookingId`',
    },
    body: PaymentBody,
    bodyOptional: true,
    status: 200,
    response: BookingResponse,
    errors: {
      403: "Not an admin (`forbidden`)",
      404: "No such booking",
      409: "Booking closed",
      429: "Too many attempts (`rate_limited`)",
    },
  },
  acceptBooking: {
    ...lifecycle("accept", "Accept (the booking's provider); issues the provider's chat token"),
    response: AcceptResponse,
  },
  declineBooking: lifecycle("decline", "Decline before accepting (the booking's provider)"),
  startJob: lifecycle("start", "Start the job (the booking's provider)"),
  completeJob: lifecycle("complete", "Complete the job (provider or admin); ends the chat"),
  cancelBooking: lifecycle("cancel", "Cancel (customer, provider or admin); ends the chat"),
  chatToken: {
    method: "GET",
    path: "/chat/booking/{id}/token",
    summary: "The caller's own chat token",
    auth: "user",
    status: 200,
    response: ChatTokenResponse,
    errors: {
      403: "Not this booking's party",
      404: "Not issued yet (`token_not_issued`) or no such booking",
    },
  },
  history: {
    method: "GET",
    path: "/chat/booking/{id}",
    summary:
      "Message history, ascending within a page; cursors by seq. Parties send their chat token in `X-Chat-Token`; admins need none",
    auth: "user",
    query: HistoryQuery,
    headers: { "X-Chat-Token": "The caller's chat token (admins need none)" },
    status: 200,
    response: HistoryResponse,
    errors: { 403: "Not this booking's party, or a wrong chat token", 404: "No such booking" },
  },
  uploadAttachment: {
    method: "POST",
    path: "/chat/booking/{id}/attachments",
    summary:
      "Upload a photo or file for a message (a party of an active chat): the raw bytes as the body, with `Content-Length`. The type is checked from the bytes; JPEG location metadata is removed. Unused uploads are deleted after an hour",
    auth: "user",
    query: UploadQuery,
    headers: {
      "X-Chat-Token": "The caller's chat token",
      "Content-Type": "The file's type; must agree with its bytes (or be `application/octet-stream`)",
    },
    rawBody: {
      types: ["image/jpeg", "image/png", "image/webp", "image/heic", "application/pdf"],
      description:
        "The file's bytes, at most ATTACHMENT_MAX_BYTES (10 MB by default); ATTACHMENT_TYPES says which kinds",
    },
    status: 201,
    response: UploadResponse,
    errors: {
      403: "Not this booking's party, or a wrong chat token",
      404: "No such booking",
      409: "The chat is not active, has ended or is frozen (`chat_not_active`, `chat_terminated`, `chat_frozen`)",
      413: "Larger than ATTACHMENT_MAX_BYTES (`payload_too_large`)",
      415: "Not an allowed type, or bytes that are not what `Content-Type` says (`unsupported_media_type`)",
    },
  },
  downloadAttachment: {
    method: "GET",
    path: "/chat/booking/{id}/attachments/{attachmentId}",
    summary:
      "A file of this booking, as uploaded (JPEG without location): to its parties (with `X-Chat-Token`, also after the chat closed) and admins. Sent with its `Content-Type`, `Content-Disposition` and `X-Content-Type-Options: nosniff`",
    auth: "user",
    headers: { "X-Chat-Token": "The caller's chat token (admins need none)" },
    status: 200,
    response: z.unknown(),
    binaryResponse: true,
    errors: {
      403: "Not this booking's party, or a wrong chat token",
      404: "No such booking or attachment, or one in a hidden message",
    },
  },
  reportMessage: {
    method: "POST",
    path: "/chat/booking/{id}/messages/{seq}/report",
    summary:
      "Report the other party's message to the admins (a party, with `X-Chat-Token`); listed in `GET /chat/admin/flags` and in the audit trail",
    auth: "user",
    headers: { "X-Chat-Token": "The caller's chat token" },
    body: ModerationBody,
    status: 201,
    response: ReportResponse,
    errors: {
      403: "Not this booking's party, or a wrong chat token",
      404: "No such booking or message",
      503: "The audit trail cannot be written (`unavailable`)",
    },
  },
  hideMessage: {
    method: "POST",
    path: "/chat/booking/{id}/messages/{seq}/hide",
    summary:
      "Hide a message (admins): the parties receive `message-hidden` and see it as hidden in history; admins still see it. Audited",
    auth: "admin",
    body: HideBody,
    bodyOptional: true,
    status: 200,
    response: HideResponse,
    errors: { 404: "No such booking or message", 503: "The audit trail cannot be written (`unavailable`)" },
  },
  freezeChat: chatFreeze(
    "freeze",
    "Freeze the chat (admins): the parties receive `chat-frozen` and their sends are refused with `chat_frozen` until it is unfrozen. Audited",
  ),
  unfreezeChat: chatFreeze(
    "unfreeze",
    "Unfreeze the chat (admins): the parties receive `chat-frozen` with `frozen: false`. Audited",
  ),
  adminFlags: {
    method: "GET",
    path: "/chat/admin/flags",
    summary:
      "Messages to look at, newest first: contact details the contact guard found (CONTACT_POLICY `flag` or `mask`) and parties' reports (admins)",
    auth: "admin",
    query: AdminFlagsQuery,
    status: 200,
    response: AdminFlagsResponse,
  },
  myChats: {
    method: "GET",
    path: "/chat/my-chats",
    summary: "The caller's chats, newest activity first",
    auth: "user",
    status: 200,
    response: MyChatsResponse,
  },
  adminFeed: {
    method: "GET",
    path: "/admin/feed",
    summary: "How the admins' live feed is sharded: one socket path per shard (admins)",
    auth: "admin",
    status: 200,
    response: AdminFeedResponse,
  },
  adminMessages: {
    method: "GET",
    path: "/chat/admin/messages",
    summary: "Every message in D1, newest first, with a stable cursor (admins)",
    auth: "admin",
    query: AdminMessagesQuery,
    status: 200,
    response: AdminMessagesResponse,
  },
  adminBookings: {
    method: "GET",
    path: "/chat/admin/bookings",
    summary: "Every booking as D1 mirrors it, newest first, with a stable cursor (admins)",
    auth: "admin",
    query: AdminBookingsQuery,
    status: 200,
    response: AdminBookingsResponse,
  },
  adminAudit: {
    method: "GET",
    path: "/chat/admin/audit",
    summary:
      "Every look admins took at users' conversations (joins, history, searches, the feed, support threads), newest first (admins)",
    auth: "admin",
    query: AdminAuditQuery,
    status: 200,
    response: AdminAuditResponse,
  },
  deadLetters: {
    method: "GET",
    path: "/chat/admin/dead-letters",
    summary: "What consumers set aside (a message D1 refused for good, say), newest first (admins)",
    auth: "admin",
    status: 200,
    response: DeadLettersResponse,
  },
  adminArchives: {
    method: "GET",
    path: "/chat/admin/archives",
    summary:
      "The archive objects in R2 (ARCHIVES): messages older than D1_RETENTION_DAYS, as NDJSON per D1 shard and day (admins). Audited",
    auth: "admin",
    query: ArchivesQuery,
    status: 200,
    response: ArchivesResponse,
  },
  exportUser: {
    method: "GET",
    path: "/admin/users/{userId}/export",
    summary:
      "Everything of one user's (GDPR articles 15 and 20), streamed as NDJSON: each booking they are a party of, its messages as they read them, their read positions, their support thread, then an `end` line (admins). Audited",
    auth: "admin",
    status: 200,
    response: ExportLine,
    binaryResponse: true,
    responseType: "application/x-ndjson",
    errors: { 503: "The audit trail cannot be written (`unavailable`)" },
  },
  eraseUser: {
    method: "POST",
    path: "/admin/users/{userId}/erase",
    summary:
      "Erase one user's data (GDPR article 17): every message they wrote keeps its place but loses its content, metadata and files, in the rooms, support thread, D1, the archives and the attachments bucket; their inboxes are deleted. Runs in the background, resumes after a crash, and a second request while one runs answers the same erasure (admins). Audited",
    auth: "admin",
    body: EraseBody,
    status: 202,
    response: EraseResponse,
    errors: { 503: "The audit trail cannot be written (`unavailable`)" },
  },
  erasureStatus: {
    method: "GET",
    path: "/admin/erasures/{id}",
    summary: "How far an erasure got (admins)",
    auth: "admin",
    status: 200,
    response: ErasureResponse,
    errors: { 404: "No such erasure" },
  },
  retryDeadLetter: {
    method: "POST",
    path: "/chat/admin/dead-letters/{id}/retry",
    summary:
      "Copy a D1 dead letter to D1 again, once what made D1 refuse it is fixed; resolved when it succeeds (admins). Audited",
    auth: "admin",
    status: 200,
    response: DeadLetterResponse,
    errors: {
      404: "No such dead letter",
      409: "Already resolved, or not a D1 copy (only those can be retried; discard the others) (`invalid_transition`)",
      503: "D1 refused it again, or the audit trail cannot be written (`unavailable`)",
    },
  },
  discardDeadLetter: {
    method: "POST",
    path: "/chat/admin/dead-letters/{id}/discard",
    summary: "Mark a dead letter resolved without retrying it (admins). Audited",
    auth: "admin",
    status: 200,
    response: DeadLetterResponse,
    errors: { 404: "No such dead letter", 409: "Already resolved (`invalid_transition`)" },
  },
  supportThreads: {
    method: "GET",
    path: "/chat/support",
    summary: "Support threads (admins)",
    auth: "admin",
    status: 200,
    response: SupportThreadsResponse,
  },
  supportSend: {
    method: "POST",
    path: "/chat/support/messages",
    summary:
      "A provider writes in its own support thread (starting it); 200 with the stored message when this clientMessageId was already stored",
    auth: "user",
    body: SupportMessageBody,
    status: 201,
    response: SupportMessageResponse,
    errors: { 403: "Not a provider", 429: "Too many posts (`rate_limited`)" },
  },
  supportReply: {
    method: "POST",
    path: "/chat/support/{providerId}/messages",
    summary:
      "An admin replies in a provider's thread; 200 with the stored message when this clientMessageId was already stored",
    auth: "user",
    body: SupportMessageBody,
    status: 201,
    response: SupportMessageResponse,
    errors: { 403: "Not an admin", 409: "The provider has not started a thread (`thread_not_started`)" },
  },
  supportHistory: {
    method: "GET",
    path: "/chat/support/{providerId}",
    summary: "A support thread (that provider or admins)",
    auth: "user",
    query: HistoryQuery,
    status: 200,
    response: SupportHistoryResponse,
    errors: { 403: "Not that provider or an admin" },
  },
} as const satisfies Record<string, HttpRoute>;

export type HttpRouteName = keyof typeof httpRoutes;

/** The WebSocket routes, whose frames docs/protocol.md describes (the SDK opens them itself). */
export const socketRoutes = {
  bookingSocket: { path: "/bookings/{id}/ws", summary: "The booking's chat socket" },
  inboxSocket: { path: "/me/ws", summary: "The caller's inbox socket" },
  adminFeedSocket: {
    path: "/admin/ws",
    summary: "One shard of the admins' live feed (admins only); `shard` is required when there are several",
  },
} as const;

/** `{id: string}` for a path such as `/bookings/{id}/accept`. */
export type PathParams<P extends string> = P extends `${string}{${infer Name}}${infer Rest}`
  ? { [K in Name]: string } & PathParams<Rest>
  : unknown;

export type HasPathParams<P extends string> = P extends `${string}{${string}}${string}` ? true : false;
