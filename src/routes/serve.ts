import type { Context, Hono, MiddlewareHandler } from "hono";
import type * as z from "zod/mini";
import { type AppEnv, requireUser } from "../auth/authenticate";
import type { Identity } from "../auth/jwt";
import { requireAdmin } from "../auth/require-admin";
import { EntityId, type HttpRoute, type HttpRouteName, httpRoutes, type PathParams } from "../protocol";
import { bodyText, parseJsonText, parseOr400 } from "../validation";
import { limitReads } from "./throttle";

type Parsed<S> = S extends z.ZodMiniType ? z.output<S> : undefined;
type IdentityFor<Auth> = Auth extends "user" | "admin" ? Identity : undefined;

/** What a route's handler gets: the caller and everything the declaration says, validated. */
export type RouteInput<R extends HttpRoute> = {
  /** Present whenever the route's `auth` requires a JWT. */
  identity: IdentityFor<R["auth"]>;
  params: PathParams<R["path"]>;
  query: Parsed<R["query"]>;
  /**
   * The body, parsed by the declared schema (an empty body is `{}` where `bodyOptional`). Read on
   * demand, so a route checks who is asking before it reads what they sent.
   */
  body: () => Promise<Parsed<R["body"]>>;
  /** The body's text, strictly UTF-8 (the payment webhook verifies its signature over it). */
  rawBody: () => Promise<string>;
};

/**
 * A route's answer: its value (sent as JSON with the declared status, or `status`), or a Response
 * of its own (a body already JSON, say).
 */
export type RouteReply<R extends HttpRoute> =
  | Response
  | { body: z.output<R["response"]>; status?: 200 | 201 | 202 };

export type RouteHandler<R extends HttpRoute> = (
  c: Context<AppEnv>,
  input: RouteInput<R>,
) => Promise<RouteReply<R>> | RouteReply<R>;

/** A handler for every route of the table; a missing or extra one does not compile. */
export type RouteHandlers = { [K in HttpRouteName]: RouteHandler<(typeof httpRoutes)[K]> };

const PARAM = /\{(\w+)\}/g;

/** Who may call, from the declaration, before the handler runs; every user read counts against READS_PER_USER. */
function guards(route: HttpRoute): MiddlewareHandler<AppEnv>[] {
  if (route.auth === "user") return [requireUser, limitReads];
  if (route.auth === "admin") return [requireUser, requireAdmin, limitReads];
  return [];
}

/**
 * Registers every route of the protocol's table on `app`, each with its declared method, path,
 * authentication and validation (path parameters as ids, the query and body by their schemas), so
 * a route is declared once, in src/protocol/routes.ts, and its handler only does its work.
 */
export function serveRoutes(app: Hono<AppEnv>, handlers: RouteHandlers): void {
  for (const [name, route] of Object.entries(httpRoutes) as [HttpRouteName, HttpRoute][]) {
    const handler = handlers[name] as RouteHandler<HttpRoute>;
    const path = route.path.replace(PARAM, ":$1");
    app.on(route.method, [path], ...guards(route), async (c) => {
      const params: Record<string, string> = {};
      for (const [, param] of route.path.matchAll(PARAM)) {
        if (param) params[param] = parseOr400(EntityId, c.req.param(param));
      }
      let text: Promise<string> | undefined;
      const rawBody = () => {
        text ??= bodyText(c);
        return text;
      };
      const input: RouteInput<HttpRoute> = {
        identity: c.get("identity"),
        params,
        query: route.query ? parseOr400(route.query, c.req.query()) : undefined,
        body: async () =>
          route.body ? parseJsonText(route.body, await rawBody(), route.bodyOptional) : undefined,
        rawBody,
      };
      const reply = await handler(c, input);
      if (reply instanceof Response) return reply;
      return Response.json(reply.body, { status: reply.status ?? route.status });
    });
  }
}
