import { env } from "cloudflare:workers";
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { app } from "../src/app";
import { getConfig } from "../src/config";
import { api } from "./helpers/api";

const base = {
  ...env,
  ENVIRONMENT: "production",
  JWT_SECRET: "prod-jwt-secret-0123456789abcdef-0123",
  CHAT_TOKEN_SECRET: "prod-chat-token-secret-0123456789-0123",
  PAYMENT_WEBHOOK_SECRET: "prod-payment-secret-0123456789-0123456",
};

async function health(overrides: Record<string, unknown>) {
  const res = await app.request("/health", {}, { ...base, ...overrides });
  return { status: res.status, text: await res.text() };
}

describe("configuration", () => {
  it("runs the tests on test secrets, not the committed development ones", () => {
    expect(getConfig(env)).toMatchObject({ environment: "test", jwtSecret: expect.stringMatching(/^test-/) });
  });

  it("refuses the development secrets outside ENVIRONMENT=development, whatever their prefix", () => {
    const devSecret = "spana-dev-jwt-secret-do-not-use-in-production";
    expect(() => getConfig({ ...base, JWT_SECRET: devSecret })).toThrow(/misconfigured/);
    expect(() => getConfig({ ...base, JWT_SECRET: `spana-dev-${"x".repeat(40)}` })).toThrow(/misconfigured/);
    expect(getConfig({ ...base, ENVIRONMENT: "development", JWT_SECRET: devSecret }).jwtSecret).toBe(
      devSecret,
    );
  });

  it("refuses secrets under 32 bytes, the same secret twice, and a missing JWT key source", () => {
    expect(() => getConfig({ ...base, CHAT_TOKEN_SECRET: "x".repeat(31) })).toThrow(/misconfigured/);
    expect(getConfig({ ...base, CHAT_TOKEN_SECRET: "é".repeat(16) }).chatTokenSecret).toBe("é".repeat(16));
    expect(() => getConfig({ ...base, PAYMENT_WEBHOOK_SECRET: "" })).toThrow(/misconfigured/);
    expect(() => getConfig({ ...base, PAYMENT_WEBHOOK_SECRET: base.CHAT_TOKEN_SECRET })).toThrow(
      /misconfigured/,
    );
    expect(() => getConfig({ ...base, JWT_SECRET: "" })).toThrow(/misconfigured/);
  });

  it("accepts a JWKS only with a required issuer and audience, so other tenants' tokens do not pass", () => {
    const jwks = { ...base, JWT_SECRET: "", JWT_JWKS_URL: "https://id.example/jwks.json" };
    expect(() => getConfig(jwks)).toThrow(/misconfigured/);
    expect(() => getConfig({ ...jwks, JWT_ISSUER: "https://id.example/" })).toThrow(/misconfigured/);
    expect(getConfig({ ...jwks, JWT_ISSUER: "https://id.example/", JWT_AUDIENCE: "spana" }).jwksUrl).toBe(
      "https://id.example/jwks.json",
    );
  });

  it("reports what is wrong on /health, red, naming variables but never their values", async () => {
    expect(await health({})).toMatchObject({ status: 200 });
    const short = await health({ CHAT_TOKEN_SECRET: "short-secret" });
    expect(short.status).toBe(503);
    expect(short.text).toContain("CHAT_TOKEN_SECRET");
    expect(short.text).not.toContain("short-secret");
    const missing = await health({ PAYMENT_WEBHOOK_SECRET: undefined, JWT_SECRET: undefined });
    expect(missing.status).toBe(503);
    expect(missing.text).toContain("PAYMENT_WEBHOOK_SECRET");
    expect(missing.text).toContain("JWT_SECRET or JWT_JWKS_URL");
  });

  it("answers 503, not 401, while the identity provider's keys cannot be fetched", async () => {
    const jwks = {
      ...base,
      JWT_SECRET: "",
      JWT_JWKS_URL: "https://jwks.invalid/.well-known/jwks.json",
      JWT_ISSUER: "https://jwks.invalid/",
      JWT_AUDIENCE: "spana",
    };
    const keys = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
      "sign",
      "verify",
    ])) as CryptoKeyPair;
    const jwt = await new SignJWT({ role: "customer" })
      .setProtectedHeader({ alg: "ES256", kid: "k1" })
      .setSubject("alice")
      .setIssuer("https://jwks.invalid/")
      .setAudience("spana")
      .setExpirationTime("1h")
      .sign(keys.privateKey);
    const res = await app.request("/chat/my-chats", { headers: { Authorization: `Bearer ${jwt}` } }, jwks);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: { code: "unavailable" } });
  });
});

describe("development sign-in", () => {
  it("does not exist outside ENVIRONMENT=development: nobody can mint identities in production", async () => {
    const res = await api("POST", "/dev/token", { body: { role: "admin", userId: "intruder" } });
    expect(res.status).toBe(404);
    expect(res.text).not.toContain("token");
  });
});
