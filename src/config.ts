import { z } from "zod";
import { ApiError } from "./errors";
import { MAX_FRAME_BYTES, MAX_MESSAGE_CHARS } from "./protocol";

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
  ALLOWED_ORIGINS: Optional,
  MAX_FRAME_BYTES: limit(MAX_FRAME_BYTES),
  MAX_MESSAGE_CHARS: limit(MAX_MESSAGE_CHARS),
  SEND_RATE_PER_SOCKET: limit(5),
  SEND_BURST_PER_SOCKET: limit(20),
  SEND_RATE_PER_USER: limit(10),
  SEND_BURST_PER_USER: limit(40),
  MAX_SOCKETS_PER_USER: limit(10),
  ADMIN_FEED_SHARDS: limit(1),
});

/** A positive integer var with a default; vars arrive as strings (or numbers from wrangler.toml). */
function limit(fallback: number) {
  return z
    .union([z.string(), z.number()])
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === "") return fallback;
      const n = Number(v);
      if (!Number.isInteger(n) || n <= 0) {
        ctx.addIssue({ code: "custom", message: "must be a positive integer" });
        return z.NEVER;
      }
      return n;
    });
}

/** Abuse limits, each overridable by the var of the same name in SCREAMING_CASE. */
export type Limits = {
  maxFrameBytes: number;
  maxMessageChars: number;
  /** Token buckets: messages per second refilled, and the burst a bucket holds. */
  sendRatePerSocket: number;
  sendBurstPerSocket: number;
  sendRatePerUser: number;
  sendBurstPerUser: number;
  /** Open sockets one user may hold on one booking (or one inbox, or the admin feed). */
  maxSocketsPerUser: number;
};

export type Config = {
  /** Exact origins browsers may open sockets from; undefined allows any. */
  allowedOrigins: string[] | undefined;
  limits: Limits;
  /** Admin feed objects; each booking and support thread goes to one (see delivery/targets.ts). */
  adminFeedShards: number;
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
    allowedOrigins: c.ALLOWED_ORIGINS?.split(",")
      .map((o) => o.trim())
      .filter(Boolean),
    limits: {
      maxFrameBytes: c.MAX_FRAME_BYTES,
      maxMessageChars: c.MAX_MESSAGE_CHARS,
      sendRatePerSocket: c.SEND_RATE_PER_SOCKET,
      sendBurstPerSocket: c.SEND_BURST_PER_SOCKET,
      sendRatePerUser: c.SEND_RATE_PER_USER,
      sendBurstPerUser: c.SEND_BURST_PER_USER,
      maxSocketsPerUser: c.MAX_SOCKETS_PER_USER,
    },
    adminFeedShards: c.ADMIN_FEED_SHARDS,
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
