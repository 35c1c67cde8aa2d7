import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { getConfig } from "../src/config";
import { api } from "./helpers/api";

const base = {
  ...env,
  ENVIRONMENT: "production",
  JWT_SECRET: "prod-jwt-secret-0123456789abcdef",
  CHAT_TOKEN_SECRET: "prod-chat-token-secret-0123456789",
  PAYMENT_WEBHOOK_SECRET: "prod-payment-secret-0123456789",
};

describe("configuration", () => {
  it("runs the tests on test secrets, not the committed development ones", () => {
    expect(getConfig(env)).toMatchObject({ environment: "test", jwtSecret: expect.stringMatching(/^test-/) });
  });

  it("refuses the development secrets outside ENVIRONMENT=development", () => {
    const devSecret = "spana-dev-jwt-secret-do-not-use-in-production";
    expect(() => getConfig({ ...base, JWT_SECRET: devSecret })).toThrow(/misconfigured/);
    expect(getConfig({ ...base, ENVIRONMENT: "development", JWT_SECRET: devSecret }).jwtSecret).toBe(
      devSecret,
    );
  });

  it("refuses missing or short secrets and a missing JWT key source", () => {
    expect(() => getConfig({ ...base, CHAT_TOKEN_SECRET: "short" })).toThrow(/misconfigured/);
    expect(() => getConfig({ ...base, PAYMENT_WEBHOOK_SECRET: "" })).toThrow(/misconfigured/);
    expect(() => getConfig({ ...base, JWT_SECRET: "" })).toThrow(/misconfigured/);
    expect(getConfig({ ...base, JWT_SECRET: "", JWT_JWKS_URL: "https://id.example/jwks.json" }).jwksUrl).toBe(
      "https://id.example/jwks.json",
    );
  });
});

describe("development sign-in", () => {
  it("does not exist outside ENVIRONMENT=development: nobody can mint identities in production", async () => {
    const res = await api("POST", "/dev/token", { body: { role: "admin", userId: "intruder" } });
    expect(res.status).toBe(404);
    expect(res.text).not.toContain("token");
  });
});
