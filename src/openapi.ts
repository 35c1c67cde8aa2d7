import { z } from "zod";
import {
  AcceptResponse,
  AdminAuditQuery,
  AdminFeedQuery,
  AdminFeedResponse,
  AdminMessagesQuery,
  AdminMessagesResponse,
  BookingResponse,
  ChatTokenResponse,
  CreateBookingBody,
  DevTokenBody,
  ErrorBody,
  HistoryQuery,
  HistoryResponse,
  MyChatsResponse,
  PaymentBody,
  SupportHistoryResponse,
  SupportMessage,
  SupportMessageBody,
  SupportThreadsResponse,
} from "./protocol";

type Json = Record<string, unknown>;

/** JSON Schema (2020-12, which OpenAPI 3.1 uses) of a request (`input`) or response (`output`). */
function schema(type: z.ZodType, io: "input" | "output" = "output"): Json {
  const { $schema: _draft, ...rest } = z.toJSONSchema(type, { io, unrepresentable: "any" });
  return rest;
}

const errorResponse = (description: string) => ({
  description,
  content: { "application/json": { schema: schema(ErrorBody) } },
});

const json = (type: z.ZodType, description = "OK") => ({
  description,
  content: { "application/json": { schema: schema(type) } },
});

const body = (type: z.ZodType, required = true) => ({
  required,
  content: { "application/json": { schema: schema(type, "input") } },
});

const pathParam = (name: string, description: string) => ({
  name,
  in: "path",
  required: true,
  description,
  schema: { type: "string", pattern: "^[A-Za-z0-9\\-.:@]+$" },
});

/** Query parameters straight from a zod object schema, so the document cannot drift from validation. */
function queryParams(type: z.ZodObject): Json[] {
  return Object.entries(type.shape).map(([name, field]) => ({
    name,
    in: "query",
    required: false,
    schema: schema(field as z.ZodType, "input"),
  }));
}

const bookingId = pathParam("id", "Booking id");
const providerId = pathParam("providerId", "The provider whose support thread this is");
const standardErrors = {
  "400": errorResponse("Invalid request (`invalid_request`)"),
  "401": errorResponse("Missing or invalid JWT (`unauthorized`)"),
  "403": errorResponse("Not allowed (`forbidden`)"),
};

const lifecycleAction = (summary: string) => ({
  summary,
  parameters: [bookingId],
  responses: {
    "200": json(BookingResponse),
    ...standardErrors,
    "404": errorResponse("No such booking (`booking_not_found`)"),
    "409": errorResponse(
      "Illegal transition (`booking_closed`, `already_accepted`, `not_accepted`, `payment_required`, `invalid_transition`)",
    ),
  },
});

const socket = (summary: string) => ({
  summary,
  description:
    "WebSocket upgrade. Browsers offer the subprotocols `spana-chat.v1` and `bearer.<jwt>`; the server selects `spana-chat.v1`. Frames are described in docs/protocol.md.",
  responses: {
    "101": { description: "Switching Protocols" },
    "401": errorResponse("Missing or invalid JWT"),
    "403": errorResponse("Not allowed, or `origin_not_allowed`"),
    "426": errorResponse("Not a WebSocket upgrade"),
    "429": errorResponse("Too many open sockets (`too_many_connections`)"),
  },
});

let cached: Json | null = null;

/** The OpenAPI 3.1 document for every HTTP route, built from the protocol's zod schemas. */
export function openApiDocument(): Json {
  cached ??= {
    openapi: "3.1.0",
    info: {
      title: "spana-chat",
      version: "0.1.0",
      description: "Booking chat for a home-services marketplace. WebSocket frames: docs/protocol.md.",
    },
    components: {
      securitySchemes: { bearerAuth: { type: "http", scheme: "bearer", bearerFormat: "JWT" } },
    },
    security: [{ bearerAuth: [] }],
    paths: {
      "/health": {
        get: {
          summary:
            "Health: `{ok, problems, deadLetters}`; configuration problems are named, never their values",
          security: [],
          responses: {
            "200": { description: "Configured, D1 reachable" },
            "503": { description: "Misconfigured or D1 unreachable; `problems` says what" },
          },
        },
      },
      "/openapi.json": {
        get: { summary: "This document", security: [], responses: { "200": { description: "OK" } } },
      },
      "/dev/token": {
        post: {
          summary:
            "Development only: mint a user JWT for the try-it page (404 unless ENVIRONMENT=development)",
          security: [],
          requestBody: body(DevTokenBody),
          responses: {
            "200": { description: "`{token}`" },
            "400": errorResponse("Invalid body"),
            "404": errorResponse("Not a development deployment"),
          },
        },
      },
      "/dev/meter": {
        get: {
          summary:
            "Development only: what this isolate's objects have spent (SQLite rows, alarms, calls, D1 rows), for the benchmark",
          security: [],
          responses: {
            "200": { description: "Counters by kind of object" },
            "404": errorResponse("Not a development deployment"),
          },
        },
      },
      "/bookings": {
        post: {
          summary: "Create a booking (customers)",
          requestBody: body(CreateBookingBody),
          responses: { "201": json(BookingResponse, "Created"), ...standardErrors },
        },
      },
      "/bookings/{id}": {
        get: {
          summary: "A booking, for its parties and admins (never with chat tokens)",
          parameters: [bookingId],
          responses: {
            "200": json(BookingResponse),
            ...standardErrors,
            "404": errorResponse("No such booking"),
          },
        },
      },
      "/bookings/{id}/payment": {
        post: {
          summary:
            "Confirm payment: an admin JWT, or the payment webhook signed with `X-Signature: t=<unix seconds>,v1=<hex>`",
          security: [{ bearerAuth: [] }, {}],
          parameters: [
            bookingId,
            {
              name: "X-Signature",
              in: "header",
              required: false,
              description:
                '`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` under PAYMENT_WEBHOOK_SECRET, within 5 minutes; the body must then name `bookingId`',
              schema: { type: "string" },
            },
          ],
          requestBody: body(PaymentBody, false),
          responses: {
            "200": json(BookingResponse),
            ...standardErrors,
            "404": errorResponse("No such booking"),
            "409": errorResponse("Booking closed"),
          },
        },
      },
      "/bookings/{id}/accept": {
        post: {
          ...lifecycleAction("Accept (the booking's provider); issues the provider's chat token"),
          responses: { ...lifecycleAction("").responses, "200": json(AcceptResponse) },
        },
      },
      "/bookings/{id}/decline": {
        post: lifecycleAction("Decline before accepting (the booking's provider)"),
      },
      "/bookings/{id}/start": { post: lifecycleAction("Start the job (the booking's provider)") },
      "/bookings/{id}/complete": {
        post: lifecycleAction("Complete the job (provider or admin); ends the chat"),
      },
      "/bookings/{id}/cancel": {
        post: lifecycleAction("Cancel (customer, provider or admin); ends the chat"),
      },
      "/bookings/{id}/ws": { get: { ...socket("The booking's chat socket"), parameters: [bookingId] } },
      "/me/ws": { get: socket("The caller's inbox socket") },
      "/admin/feed": {
        get: {
          summary: "How the admins' live feed is sharded: one socket path per shard (admins)",
          responses: { "200": json(AdminFeedResponse), ...standardErrors },
        },
      },
      "/admin/ws": {
        get: {
          ...socket(
            "One shard of the admins' live feed (admins only); `shard` is required when there are several",
          ),
          parameters: queryParams(AdminFeedQuery),
        },
      },
      "/chat/booking/{id}/token": {
        get: {
          summary: "The caller's own chat token",
          parameters: [bookingId],
          responses: {
            "200": json(ChatTokenResponse),
            ...standardErrors,
            "404": errorResponse("Not issued yet (`token_not_issued`) or no such booking"),
          },
        },
      },
      "/chat/booking/{id}": {
        get: {
          summary: "Message history, ascending within a page; cursors by seq",
          parameters: [
            bookingId,
            ...queryParams(HistoryQuery),
            {
              name: "X-Chat-Token",
              in: "header",
              required: false,
              description: "The caller's chat token (admins need none)",
              schema: { type: "string" },
            },
          ],
          responses: {
            "200": json(HistoryResponse),
            ...standardErrors,
            "404": errorResponse("No such booking"),
          },
        },
      },
      "/chat/my-chats": {
        get: {
          summary: "The caller's chats, newest activity first",
          responses: { "200": json(MyChatsResponse), "401": standardErrors["401"] },
        },
      },
      "/chat/support": {
        get: {
          summary: "Support threads (admins)",
          responses: { "200": json(SupportThreadsResponse), ...standardErrors },
        },
      },
      "/chat/support/messages": {
        post: {
          summary: "A provider writes in its own support thread (starting it)",
          requestBody: body(SupportMessageBody),
          responses: {
            "201": json(z.object({ message: SupportMessage }), "Stored"),
            "200": json(z.object({ message: SupportMessage }), "Already stored under this clientMessageId"),
            ...standardErrors,
          },
        },
      },
      "/chat/support/{providerId}/messages": {
        post: {
          summary: "An admin replies in a provider's thread",
          parameters: [providerId],
          requestBody: body(SupportMessageBody),
          responses: {
            "201": json(z.object({ message: SupportMessage }), "Stored"),
            "200": json(z.object({ message: SupportMessage }), "Already stored under this clientMessageId"),
            ...standardErrors,
            "409": errorResponse("The provider has not started a thread (`thread_not_started`)"),
          },
        },
      },
      "/chat/support/{providerId}": {
        get: {
          summary: "A support thread (that provider or admins)",
          parameters: [providerId, ...queryParams(HistoryQuery)],
          responses: { "200": json(SupportHistoryResponse), ...standardErrors },
        },
      },
      "/chat/admin/audit": {
        get: {
          summary:
            "Every look admins took at users' conversations (joins, history, searches, the feed, support threads), newest first (admins)",
          parameters: queryParams(AdminAuditQuery),
          responses: {
            "200": { description: "`{entries: [{adminId, action, target, at}]}`" },
            ...standardErrors,
          },
        },
      },
      "/chat/admin/dead-letters": {
        get: {
          summary: "What consumers set aside (a message D1 refused for good, say), newest first (admins)",
          responses: { "200": { description: "`{deadLetters: [...]}`" }, ...standardErrors },
        },
      },
      "/chat/admin/messages": {
        get: {
          summary: "Every message in D1, newest first, with a stable cursor (admins)",
          parameters: queryParams(AdminMessagesQuery),
          responses: { "200": json(AdminMessagesResponse), ...standardErrors },
        },
      },
    },
  };
  return cached;
}
