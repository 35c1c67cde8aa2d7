import { env } from "cloudflare:workers";
import { importJWK, SignJWT } from "jose";
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from "vitest";
import { app } from "../src/app";
import { getConfig } from "../src/config";
import { IDENTITY_PROVIDER, JWKS_DOWN_URL, JWKS_URL, SIGNING_KEY } from "./fixtures/identity-provider";
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
  // Every refusal below is also logged for the operator; what the log says is checked once.
  let logged: MockInstance<typeof console.error>;
  beforeEach(() => {
    logged = vi.spyOn(console, "error").mockImplementation(() => {});
  });
  afterEach(() => logged.mockRestore());
  const logLines = () => logged.mock.calls.map((call) => call.join(" "));

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
    expect(logLines()).toContain("configuration invalid CHAT_TOKEN_SECRET: must be at least 32 bytes");
    expect(logLines().join("\n")).not.toContain("x".repeat(31));
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

  it("verifies JWTs against the identity provider's JWKS, and answers 503, not 401, while it is down", async () => {
    const settings = (jwksUrl: string) => ({
      ...base,
      JWT_SECRET: "",
      JWT_JWKS_URL: jwksUrl,
      JWT_ISSUER: `${IDENTITY_PROVIDER}/`,
      JWT_AUDIENCE: "spana",
    });
    const signed = async (key: CryptoKey, kid: string) =>
      new SignJWT({ role: "customer" })
        .setProtectedHeader({ alg: "ES256", kid })
        .setSubject("alice")
        .setIssuer(`${IDENTITY_PROVIDER}/`)
        .setAudience("spana")
        .setExpirationTime("1h")
        .sign(key);
    const myChats = async (jwt: string, jwksUrl: string) =>
      app.request("/chat/my-chats", { headers: { Authorization: `Bearer ${jwt}` } }, settings(jwksUrl));
    const providerKey = await importJWK(SIGNING_KEY, "ES256");
    const genuine = await signed(providerKey as CryptoKey, SIGNING_KEY.kid);
    expect((await myChats(genuine, JWKS_URL)).status).toBe(200);

    const { privateKey: strangerKey } = (await crypto.subtle.generateKey(
      { name: "ECDSA", namedCurve: "P-256" },
      true,
      ["sign", "verify"],
    )) as CryptoKeyPair;
    const forged = await myChats(await signed(strangerKey, SIGNING_KEY.kid), JWKS_URL);
    expect(forged.status).toBe(401);

    const down = await myChats(genuine, `${JWKS_DOWN_URL}?${crypto.randomUUID()}`);
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({ error: { code: "unavailable" } });
    // Operators see why, without the token.
    expect(logLines().join("\n")).toMatch(/JWKS could not be fetched/);
    expect(logLines().join("\n")).not.toContain(genuine);
  });
});

describe("development sign-in", () => {
  it("does not exist outside ENVIRONMENT=development: nobody can mint identities in production", async () => {
    const res = await api("POST", "/dev/token", { body: { role: "admin", userId: "intruder" } });
    expect(res.status).toBe(404);
    expect(res.text).not.toContain("token");
  });
});
