import { z } from "zod";
import { ApiError } from "./errors";

/** The documented local-development secrets all start with this; production must never use them. */
const DEV_SECRET_PREFIX = "spana-dev-";

const Secret = z.string().min(16, "must be at least 16 characters");
const Optional = z
  .string()
  .optional()
  .transform((v) => (v ? v : undefined));

const ConfigSchema = z.object({
  ENVIRONMENT: z.string().default("production"),
  JWT_SECRET: Optional.pipe(Secret.optional()),
  JWT_JWKS_URL: Optional.pipe(z.url().optional()),
  JWT_ISSUER: Optional,
  JWT_AUDIENCE: Optional,
  CHAT_TOKEN_SECRET: Secret,
  PAYMENT_WEBHOOK_SECRET: Secret,
});

export type Config = {
  environment: string;
  jwtSecret: string | undefined;
  jwksUrl: string | undefined;
  jwtIssuer: string | undefined;
  jwtAudience: string | undefined;
  chatTokenSecret: string;
  paymentWebhookSecret: string;
};

const cache = new WeakMap<object, Config>();

/** Reads and checks configuration once per env; a misconfigured deployment answers 500, never runs insecurely. */
export function getConfig(env: Env): Config {
  const cached = cache.get(env);
  if (cached) return cached;
  const parsed = ConfigSchema.safeParse(env);
  if (!parsed.success) {
    console.error("configuration invalid", z.prettifyError(parsed.error));
    throw new ApiError(500, "misconfigured", "Server is misconfigured");
  }
  const c = parsed.data;
  if (!c.JWT_SECRET && !c.JWT_JWKS_URL) {
    console.error("configuration invalid: set JWT_SECRET or JWT_JWKS_URL");
    throw new ApiError(500, "misconfigured", "Server is misconfigured");
  }
  const secrets = [c.JWT_SECRET, c.CHAT_TOKEN_SECRET, c.PAYMENT_WEBHOOK_SECRET];
  if (c.ENVIRONMENT !== "development" && secrets.some((s) => s?.startsWith(DEV_SECRET_PREFIX))) {
    console.error("configuration invalid: development secrets outside ENVIRONMENT=development");
    throw new ApiError(500, "misconfigured", "Server is misconfigured");
  }
  const config: Config = {
    environment: c.ENVIRONMENT,
    jwtSecret: c.JWT_SECRET,
    jwksUrl: c.JWT_JWKS_URL,
    jwtIssuer: c.JWT_ISSUER,
    jwtAudience: c.JWT_AUDIENCE,
    chatTokenSecret: c.CHAT_TOKEN_SECRET,
    paymentWebhookSecret: c.PAYMENT_WEBHOOK_SECRET,
  };
  cache.set(env, config);
  return config;
}
