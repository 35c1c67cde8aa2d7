import { z } from "zod";
import { ErrorBody, type HttpRoute, httpRoutes, socketRoutes } from "./protocol";

type Json = Record<string, unknown>;

/** JSON Schema (2020-12, which OpenAPI 3.1 uses) of a request (`input`) or response (`output`). */
function schema(type: z.core.$ZodType, io: "input" | "output" = "output"): Json {
  const { $schema: _draft, ...rest } = z.toJSONSchema(type, { io, unrepresentable: "any" });
  return rest;
}

/** Bytes, as OpenAPI 3.1 describes a file. */
const BINARY = { type: "string", contentMediaType: "application/octet-stream" };

const errorResponse = (description: string) => ({
  description,
  content: { "application/json": { schema: schema(ErrorBody) } },
});

const pathParams = (path: string) =>
  [...path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
    name,
    in: "path",
    required: true,
    schema: { type: "string", pattern: "^[A-Za-z0-9\\-.:@]+$" },
  }));

/** One operation, from the route table the SDK is built from too. */
function operation(route: HttpRoute): Json {
  const query = Object.entries(route.query?.shape ?? {}).map(([name, field]) => ({
    name,
    in: "query",
    required: false,
    schema: schema(field as z.core.$ZodType, "input"),
  }));
  const headers = Object.entries(route.headers ?? {}).map(([name, description]) => ({
    name,
    in: "header",
    required: false,
    description,
    schema: { type: "string" },
  }));
  const parameters = [...pathParams(route.path), ...query, ...headers];
  const errors: Json = {
    ...(route.auth === "none" ? {} : { "401": errorResponse("Missing or invalid JWT (`unauthorized`)") }),
    ...(route.auth === "admin" ? { "403": errorResponse("Not an admin (`forbidden`)") } : {}),
    ...(route.body || route.query || route.rawBody
      ? { "400": errorResponse("Invalid request (`invalid_request`)") }
      : {}),
  };
  for (const [status, description] of Object.entries(route.errors ?? {})) {
    errors[status] = route.path === "/health" ? { description } : errorResponse(description);
  }
  return {
    summary: route.summary,
    ...(route.auth === "none" ? { security: [] } : {}),
    ...(route.auth === "user-or-signature" ? { security: [{ bearerAuth: [] }, {}] } : {}),
    ...(parameters.length ? { parameters } : {}),
    ...(route.body
      ? {
          requestBody: {
            required: !route.bodyOptional,
            content: { "application/json": { schema: schema(route.body, "input") } },
          },
        }
      : {}),
    ...(route.rawBody
      ? {
          requestBody: {
            required: true,
            description: route.rawBody.description,
            content: Object.fromEntries(route.rawBody.types.map((type) => [type, { schema: BINARY }])),
          },
        }
      : {}),
    responses: {
      [String(route.status)]: {
        description: { 200: "OK", 201: "Created", 202: "Accepted" }[route.status],
        content: route.binaryResponse
          ? route.responseType
            ? { [route.responseType]: { schema: schema(route.response) } }
            : { "application/octet-stream": { schema: BINARY } }
          : { "application/json": { schema: schema(route.response) } },
      },
      ...errors,
    },
  };
}

const socketOperation = (summary: string, path: string): Json => ({
  summary,
  description:
    "WebSocket upgrade. Browsers offer the subprotocols `spana-chat.v1` and `bearer.<jwt>`; the server selects `spana-chat.v1`. Frames are described in docs/protocol.md.",
  parameters: [
    ...pathParams(path),
    ...(path === "/admin/ws"
      ? [{ name: "shard", in: "query", required: false, schema: { type: "integer", minimum: 0 } }]
      : []),
  ],
  responses: {
    "101": { description: "Switching Protocols" },
    "401": errorResponse("Missing or invalid JWT"),
    "403": errorResponse("Not allowed, or `origin_not_allowed`"),
    "426": errorResponse("Not a WebSocket upgrade (with `Upgrade: websocket`)"),
    "429": errorResponse("Too many open sockets (`too_many_connections`)"),
  },
});

let cached: Json | null = null;

/** The OpenAPI 3.1 document for every HTTP route, built from the protocol's route table and schemas. */
export function openApiDocument(): Json {
  if (cached) return cached;
  const paths: Record<string, Json> = {};
  for (const route of Object.values(httpRoutes) as HttpRoute[]) {
    paths[route.path] = { ...paths[route.path], [route.method.toLowerCase()]: operation(route) };
  }
  for (const socket of Object.values(socketRoutes)) {
    paths[socket.path] = { get: socketOperation(socket.summary, socket.path) };
  }
  cached = {
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
    paths,
  };
  return cached;
}
