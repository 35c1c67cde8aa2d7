import type * as z from "zod/mini";
import {
  type HasPathParams,
  type HttpRoute,
  type HttpRouteName,
  httpRoutes,
  type PathParams,
} from "../../src/protocol";
import { type FileBody, type HttpOptions, request } from "./http";

/** What a call to `route` takes: its path parameters, query, body and extra headers, each typed. */
export type CallArgs<R extends HttpRoute> = (HasPathParams<R["path"]> extends true
  ? { params: PathParams<R["path"]> }
  : unknown) &
  (R["query"] extends z.ZodMiniObject ? { query?: z.input<R["query"]> } : unknown) &
  (R["body"] extends z.ZodMiniType
    ? R["bodyOptional"] extends true
      ? { body?: z.input<R["body"]> }
      : { body: z.input<R["body"]> }
    : unknown) &
  (R["rawBody"] extends object ? { body: FileBody } : unknown) &
  (R["headers"] extends { "X-Chat-Token": string } ? { chatToken?: string } : unknown) & {
    headers?: Record<string, string>;
  };

/** What it answers, parsed with the protocol's schema (a Blob for a route that answers bytes). */
export type CallResult<R extends HttpRoute> = R["binaryResponse"] extends true
  ? Blob
  : z.output<R["response"]>;

type Call<R extends HttpRoute> =
  Record<string, never> extends CallArgs<R>
    ? (args?: CallArgs<R>) => Promise<CallResult<R>>
    : (args: CallArgs<R>) => Promise<CallResult<R>>;

/** One typed method per HTTP route of the service, named as in the protocol's route table. */
export type Api = { [K in HttpRouteName]: Call<(typeof httpRoutes)[K]> };

type LooseArgs = {
  params?: Record<string, string>;
  query?: Record<string, unknown>;
  body?: unknown;
  chatToken?: string;
  headers?: Record<string, string>;
};

/** The route's path with its parameters filled in, and its query string. */
function urlOf(route: HttpRoute, args: LooseArgs): string {
  const path = route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = args.params?.[name];
    if (value === undefined) throw new TypeError(`${route.method} ${route.path}: params.${name} is required`);
    return encodeURIComponent(value);
  });
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(args.query ?? {}))
    if (value !== undefined) query.set(key, String(value));
  const search = query.toString();
  return search ? `${path}?${search}` : path;
}

/** Every route of the table as a typed call: `api.acceptBooking({ params: { id } })`. */
export function createApi(http: HttpOptions): Api {
  const api: Record<string, (args?: LooseArgs) => Promise<unknown>> = {};
  for (const [name, route] of Object.entries(httpRoutes) as [string, HttpRoute][]) {
    api[name] = async (args = {}) => {
      const raw = route.rawBody !== undefined;
      const answer = await request(http, route.method, urlOf(route, args), {
        ...(raw ? { bytes: args.body as FileBody } : { body: args.body }),
        headers:
          args.chatToken === undefined ? args.headers : { ...args.headers, "X-Chat-Token": args.chatToken },
        anonymous: route.auth === "none",
        binary: route.binaryResponse === true,
      });
      return route.binaryResponse ? answer : route.response.parse(answer);
    };
  }
  return api as unknown as Api;
}
