import type { PartyRole } from "../protocol";
import { PartyRole as PartyRoleSchema } from "../protocol";
import { hmacSha256, timingSafeEqualStrings } from "./crypto";

/**
 * Issues a chat token `{bookingId}_{role}_{hash}`: hash is the base64url HMAC-SHA256, under
 * CHAT_TOKEN_SECRET, of the booking id, user id, role and issue time.
 */
export function generateChatToken(
  secret: string,
  bookingId: string,
  userId: string,
  role: PartyRole,
  issuedAt: string,
): string {
  const mac = hmacSha256(secret, JSON.stringify([bookingId, userId, role, issuedAt]));
  return `${bookingId}_${role}_${mac.toString("base64url")}`;
}

export type ParsedChatToken = { bookingId: string; role: PartyRole; hash: string };

/** Splits a token into its parts; ids never contain `_`, the hash (base64url) may. */
export function parseChatToken(token: string): ParsedChatToken | null {
  const first = token.indexOf("_");
  const second = first < 0 ? -1 : token.indexOf("_", first + 1);
  if (first <= 0 || second < 0) return null;
  const role = PartyRoleSchema.safeParse(token.slice(first + 1, second));
  const hash = token.slice(second + 1);
  if (!role.success || hash.length === 0) return null;
  return { bookingId: token.slice(0, first), role: role.data, hash };
}

/** What the room knows about one party, to check a presented token against. */
export type IssuedToken = { role: PartyRole; userId: string; token: string | null };

/**
 * Accepts `presented` only if it is this booking's stored token for its role (compared in
 * constant time) and `userId` is that role's party. Returns the role it grants, or null.
 */
export function verifyChatToken(
  presented: string,
  bookingId: string,
  userId: string,
  issued: Record<PartyRole, IssuedToken>,
): PartyRole | null {
  const parsed = parseChatToken(presented);
  if (!parsed || parsed.bookingId !== bookingId) return null;
  const party = issued[parsed.role];
  if (party.token === null) return null;
  const matches = timingSafeEqualStrings(presented, party.token);
  return matches && party.userId === userId ? parsed.role : null;
}
