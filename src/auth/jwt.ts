import {
  createRemoteJWKSet,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
  errors as joseErrors,
  jwtVerify,
} from "jose";
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

/** Longer tokens are refused before anything decodes or verifies them. */
export const MAX_JWT_CHARS = 8192;
/** How far ahead of our clock a token's `iat` may be: clocks drift, tokens are not minted in the future. */
const IAT_SKEW_SECONDS = 60;

const Claims = z
  .object({
    sub: z.optional(EntityId),
    id: z.optional(EntityId),
    role: JwtRoleClaim,
    exp: z.number(),
    iat: z.optional(z.number()),
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

const BASE64URL = /^[A-Za-z0-9_-]*$/;
const BASE64URL_VALUE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/**
 * Whether `segment` is base64url as an encoder writes it: no padding, no other characters, and no
 * bits set past the last byte. Decoders accept `sig=` or a changed last character for the same
 * bytes, which would give one token several spellings (and several cache or replay keys).
 */
export function isCanonicalBase64Url(segment: string): boolean {
  if (!BASE64URL.test(segment) || segment.length % 4 === 1) return false;
  const last = BASE64URL_VALUE.indexOf(segment.at(-1) ?? "A");
  if (segment.length % 4 === 2) return (last & 0b1111) === 0;
  if (segment.length % 4 === 3) return (last & 0b11) === 0;
  return true;
}

/** A compact JWS of bounded size whose three parts are canonical base64url. */
function isWellFormedToken(token: string): boolean {
  if (token.length > MAX_JWT_CHARS) return false;
  const parts = token.split(".");
  return parts.length === 3 && parts.every(isCanonicalBase64Url);
}

/**
 * HS256 under JWT_SECRET, or under JWT_SECRET_PREVIOUS while a rotation goes on (tokens the
 * identity service signed before it switched stay valid until they expire).
 */
async function verifyHmac(token: string, config: Config, options: JWTVerifyOptions) {
  const verify = async (secret: string) =>
    jwtVerify(token, await hmacKey(secret), { ...options, algorithms: HMAC_ALGORITHMS });
  try {
    return await verify(config.jwtSecret ?? "");
  } catch (error) {
    // Only a bad signature is worth a second try: an expired or malformed token is that under any key.
    if (!config.jwtSecretPrevious || !(error instanceof joseErrors.JWSSignatureVerificationFailed))
      throw error;
    return verify(config.jwtSecretPrevious);
  }
}

/**
 * Verifies a user JWT: at most MAX_JWT_CHARS of canonical base64url, pinned algorithms, `exp`
 * required, no `iat` in the future, `iss`/`aud` when configured, a known role.
 */
export async function verifyUserJwt(token: string, config: Config): Promise<Identity> {
  if (!isWellFormedToken(token)) throw new InvalidJwtError("token is malformed or too long");
  const options = {
    requiredClaims: ["exp"],
    issuer: config.jwtIssuer,
    audience: config.jwtAudience,
  };
  try {
    const { payload } = config.jwksUrl
      ? await jwtVerify(token, remoteKeys(config.jwksUrl), { ...options, algorithms: JWKS_ALGORITHMS })
      : await verifyHmac(token, config, options);
    const claims = Claims.safeParse(payload);
    if (!claims.success) throw new InvalidJwtError("token claims are invalid");
    if (claims.data.iat !== undefined && claims.data.iat > Date.now() / 1000 + IAT_SKEW_SECONDS) {
      throw new InvalidJwtError("token is issued in the future");
    }
    const userId = claims.data.sub ?? claims.data.id ?? "";
    // An `exp` centuries away would overflow to Infinity in milliseconds; it means "does not expire soon".
    const expiresAt = Math.min(claims.data.exp * 1000, Number.MAX_SAFE_INTEGER);
    return { userId, role: claims.data.role, expiresAt };
  } catch (error) {
    if (error instanceof InvalidJwtError) throw error;
    // The identity provider's keys could not be fetched or read: the caller is not at fault. jose
    // says a JWKS answer other than 200 (a provider in an outage) only with its generic error.
    const keysUnavailable =
      config.jwksUrl !== undefined &&
      (!(error instanceof joseErrors.JOSEError) ||
        error.code === "ERR_JOSE_GENERIC" ||
        error instanceof joseErrors.JWKSTimeout ||
        error instanceof joseErrors.JWKSInvalid);
    if (keysUnavailable) {
      console.error("jwt: the JWKS could not be fetched", describeError(error));
      throw new ApiError("unavailable", "The identity provider cannot be reached; try again shortly", {
        retryAfterMs: 5_000,
      });
    }
    if (error instanceof joseErrors.JOSEError) throw new InvalidJwtError(error.code);
    throw error;
  }
}
