import type { Context, MiddlewareHandler } from "hono";
import { getConfig } from "../config";
import { ApiError } from "../errors";
import { BEARER_SUBPROTOCOL_PREFIX } from "../protocol";
import { type Identity, InvalidJwtError, verifyUserJwt } from "./jwt";

export type AuthVariables = { identity: Identity };
export type AppEnv = { Bindings: Env; Variables: AuthVariables };

/** RFC 6750: name the error only when a token was presented. */
function unauthorized(message: string, tokenPresented: boolean): ApiError {
  const challenge = tokenPresented
    ? 'Bearer realm="spana-chat", error="invalid_token"'
    : 'Bearer realm="spana-chat"';
  return new ApiError("unauthorized", message, { headers: { "WWW-Authenticate": challenge } });
}

/**
 * The JWT from `Authorization: Bearer`, or, where `fromSubprotocol` (the socket routes' upgrades,
 * since browsers cannot set headers on a WebSocket), from the `bearer.<jwt>` subprotocol.
 */
export function extractJwt(request: Request, fromSubprotocol = false): string | null {
  const header = request.headers.get("Authorization");
  if (header) {
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    return match?.[1] ?? null;
  }
  if (!fromSubprotocol || request.headers.get("Upgrade")?.toLowerCase() !== "websocket") return null;
  const protocols = request.headers.get("Sec-WebSocket-Protocol")?.split(",") ?? [];
  const bearer = protocols.map((p) => p.trim()).find((p) => p.startsWith(BEARER_SUBPROTOCOL_PREFIX));
  return bearer ? bearer.slice(BEARER_SUBPROTOCOL_PREFIX.length) : null;
}

export async function authenticateRequest(c: Context<AppEnv>, fromSubprotocol = false): Promise<Identity> {
  const token = extractJwt(c.req.raw, fromSubprotocol);
  if (!token) throw unauthorized("A bearer token is required", false);
  try {
    return await verifyUserJwt(token, getConfig(c.env));
  } catch (error) {
    if (error instanceof InvalidJwtError) throw unauthorized("The bearer token is invalid or expired", true);
    throw error;
  }
}

/** Requires a valid user JWT and puts the caller's identity in `c.var.identity`. */
export const requireUser: MiddlewareHandler<AppEnv> = async (c, next) => {
  c.set("identity", await authenticateRequest(c));
  await next();
};

/**
 * `requireUser` for the socket routes, which also take the JWT as a `bearer.<jwt>` subprotocol, and
 * only on a WebSocket upgrade: anything else is answered 426 before the caller is looked at.
 */
export const requireSocketUser: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") {
    throw new ApiError("invalid_request", "Expected a WebSocket upgrade", {
      headers: { Upgrade: "websocket" },
      status: 426,
    });
  }
  c.set("identity", await authenticateRequest(c, true));
  await next();
};
