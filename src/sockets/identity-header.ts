import { z } from "zod";
import type { Identity } from "../auth/jwt";
import { SUBPROTOCOL, UserRole } from "../protocol";

/**
 * The Worker authenticates the caller and hands the identity to the room in this header.
 * The room is reachable only through the Worker, which always overwrites it.
 */
export const IDENTITY_HEADER = "X-Spana-Identity";

const IdentityHeader = z.object({ userId: z.string().min(1), role: UserRole, expiresAt: z.number() });

/** What an object needs of an upgrade request besides the identity: the WebSocket handshake. */
const FORWARDED = [
  "Upgrade",
  "Connection",
  "Sec-WebSocket-Key",
  "Sec-WebSocket-Version",
  "Sec-WebSocket-Extensions",
];

/**
 * The request an object receives: the verified identity and the handshake, nothing else. The JWT
 * (in `Authorization` or a `bearer.` subprotocol), chat tokens and cookies stay in the Worker, so
 * no object, and no platform log of an object's requests, ever sees a credential.
 */
export function withIdentity(request: Request, identity: Identity): Request {
  const headers = new Headers();
  for (const name of FORWARDED) {
    const value = request.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  const offered =
    request.headers
      .get("Sec-WebSocket-Protocol")
      ?.split(",")
      .map((p) => p.trim()) ?? [];
  if (offered.includes(SUBPROTOCOL)) headers.set("Sec-WebSocket-Protocol", SUBPROTOCOL);
  headers.set(IDENTITY_HEADER, JSON.stringify(identity));
  return new Request(request.url, { method: request.method, headers });
}

export function readIdentity(request: Request): Identity | null {
  const raw = request.headers.get(IDENTITY_HEADER);
  if (!raw) return null;
  try {
    const parsed = IdentityHeader.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
