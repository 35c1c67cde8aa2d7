import { env } from "cloudflare:workers";
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { timingSafeEqualStrings } from "../../src/auth/crypto";
import { InvalidJwtError, isCanonicalBase64Url, verifyUserJwt } from "../../src/auth/jwt";
import { getConfig } from "../../src/config";

describe("constant-time string comparison", () => {
  it("answers false for strings of different lengths instead of throwing", () => {
    expect(timingSafeEqualStrings("abc", "abcd")).toBe(false);
    expect(timingSafeEqualStrings("", "a")).toBe(false);
    // Same characters, different byte lengths in UTF-8.
    expect(timingSafeEqualStrings("é", "ee")).toBe(false);
    expect(timingSafeEqualStrings("same", "same")).toBe(true);
    expect(timingSafeEqualStrings("same", "sane")).toBe(false);
  });
});

describe("user JWT verification", () => {
  const sign = (alg: string) =>
    new SignJWT({ role: "customer" })
      .setProtectedHeader({ alg })
      .setSubject("alice")
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode(env.JWT_SECRET));

  it("refuses a correctly signed token whose algorithm is not the pinned HS256, for that reason", async () => {
    for (const alg of ["HS384", "HS512"]) {
      const refusal = verifyUserJwt(await sign(alg), getConfig(env));
      await expect(refusal, alg).rejects.toBeInstanceOf(InvalidJwtError);
      await expect(refusal, alg).rejects.toThrow("ERR_JOSE_ALG_NOT_ALLOWED");
    }
    await expect(verifyUserJwt(await sign("HS256"), getConfig(env))).resolves.toMatchObject({
      userId: "alice",
      role: "customer",
    });
  });
});

describe("canonical base64url", () => {
  it("accepts what an encoder writes and nothing else that decodes to the same bytes", () => {
    const bytes = new Uint8Array([0xfb, 0xff, 0x01]);
    for (let n = 0; n <= 3; n++) {
      const encoded = Buffer.from(bytes.slice(0, n)).toString("base64url");
      expect(isCanonicalBase64Url(encoded), encoded).toBe(true);
    }
    expect(isCanonicalBase64Url("-w")).toBe(true); // 0xfb
    expect(isCanonicalBase64Url("-x")).toBe(false); // 0xfb with a spare bit set
    expect(isCanonicalBase64Url("-_8")).toBe(true); // 0xfb 0xff
    expect(isCanonicalBase64Url("-_9")).toBe(false);
    expect(isCanonicalBase64Url("-w==")).toBe(false);
    expect(isCanonicalBase64Url("+w")).toBe(false);
    expect(isCanonicalBase64Url("abcde")).toBe(false); // 5 characters cannot be base64
  });
});
