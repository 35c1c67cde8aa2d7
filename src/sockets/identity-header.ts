import { z } from "zod";
import type { Identity } from "../auth/jwt";
import { UserRole } from "../protocol";

/**
 * The Worker authenticates the caller and hands the identity to the room in this header.
 * The room is reachable only through the Worker, which always overwrites it.
 */
export const IDENTITY_HEADER = "X-Spana-Identity";

const IdentityHeader = z.object({ userId: z.string().min(1), role: UserRole, expiresAt: z.number() });

export function withIdentity(request: Request, identity: Identity): Request {
  const headers = new Headers(request.headers);
  headers.set(IDENTITY_HEADER, JSON.stringify(identity));
  return new Request(request, { headers });
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
