import { createRemoteJWKSet, type JWTVerifyGetKey, errors as joseErrors, jwtVerify } from "jose";
import { z } from "zod";
import type { Config } from "../config";
import { ApiError } from "../errors";
import { describeError } from "../log";
import { EntityId, JwtRoleClaim, type UserRole } from "../protocol";

/** The caller, as established by a verified JWT. */
export type Identity = { userId: string; role: UserRole; expiresAt: number };

/** Algorithms are pinned: a token's own `alg` header never chooses how it is checked. */
const HMAC_ALGORITHMS = ["HS256"];
const JWKS_ALGORITHMS = ["RS256", "ES256"];

const Claims = z
  .object({
    sub: z.optional(EntityId),
    id: z.optional(EntityId),
    role: JwtRoleClaim,
    exp: z.number(),
  })
  .refine((c) => c.sub !== undefined || c.id !== undefined, { message: "sub or id is required" });

const encoder = new TextEncoder();
const jwksCache = new Map<string, JWTVerifyGetKey>();
/** Imported once per secret: importing on every request showed up in the benchmark. */
const hmacKeys = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = hmacKeys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
      "verify",
    ]);
    hmacKeys.set(secret, key);
  }
  return key;
}

function remoteKeys(url: string): JWTVerifyGetKey {
  let keys = jwksCache.get(url);
  if (!keys) {
    keys = createRemoteJWKSet(new URL(url));
    jwksCache.set(url, keys);
  }
  return keys;
}

export class InvalidJwtError extends Error {}

/** Verifies a user JWT: pinned algorithms, `exp` required, `iss`/`aud` when configured, a known role. */
export async function verifyUserJwt(token: string, config: Config): Promise<Identity> {
  const options = {
    requiredClaims: ["exp"],
    issuer: config.jwtIssuer,
    audience: config.jwtAudience,
  };
  try {
    const { payload } = config.jwksUrl
      ? await jwtVerify(token, remoteKeys(config.jwksUrl), { ...options, algorithms: JWKS_ALGORITHMS })
      : await jwtVerify(token, await hmacKey(config.jwtSecret ?? ""), {
          ...options,
          algorithms: HMAC_ALGORITHMS,
        });
    const claims = Claims.safeParse(payload);
    if (!claims.success) throw new InvalidJwtError("token claims are invalid");
    const userId = claims.data.sub ?? claims.data.id ?? "";
    // An `exp` centuries away would overflow to Infinity in milliseconds; it means "does not expire soon".
    const expiresAt = Math.min(claims.data.exp * 1000, Number.MAX_SAFE_INTEGER);
    return { userId, role: claims.data.role, expiresAt };
  } catch (error) {
    if (error instanceof InvalidJwtError) throw error;
    // The identity provider's keys could not be fetched or read: the caller is not at fault.
    const keysUnavailable =
      config.jwksUrl !== undefined &&
      (!(error instanceof joseErrors.JOSEError) ||
        error instanceof joseErrors.JWKSTimeout ||
        error instanceof joseErrors.JWKSInvalid);
    if (keysUnavailable) {
      console.error("jwt: the JWKS could not be fetched", describeError(error));
      throw new ApiError(503, "unavailable", "The identity provider cannot be reached; try again shortly", {
        "Retry-After": "5",
      });
    }
    if (error instanceof joseErrors.JOSEError) throw new InvalidJwtError(error.code);
    throw error;
  }
}
