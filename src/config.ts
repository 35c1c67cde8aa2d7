import { z } from "zod";
import { type AttachmentKind, parseAttachmentTypes } from "./attachments/sniff";
import { ApiError } from "./errors";
import type { ContactPolicy } from "./moderation/contact-policy";
import { MAX_FRAME_BYTES, MAX_MESSAGE_CHARS } from "./protocol";

/** The documented local-development secrets all start with this; production must never use them. */
const DEV_SECRET_PREFIX = "spana-dev-";

const encoder = new TextEncoder();
/** HMAC-SHA256 keys shorter than the hash add no strength, and short ones can be guessed. */
const MIN_SECRET_BYTES = 32;
const Secret = z
  .string()
  .refine(
    (s) => encoder.encode(s).byteLength >= MIN_SECRET_BYTES,
    `must be at least ${MIN_SECRET_BYTES} bytes`,
  );
const Optional = z
  .string()
  .optional()
  .transform((v) => (v ? v : undefined));

export const ConfigSchema = z.object({
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
  JOIN_RATE_PER_SOCKET: limit(1),
  JOIN_BURST_PER_SOCKET: limit(5),
  JOIN_RATE_PER_USER: limit(2),
  JOIN_BURST_PER_USER: limit(10),
  FRAME_RATE_PER_SOCKET: limit(20),
  FRAME_BURST_PER_SOCKET: limit(100),
  ADMIN_FEED_SHARDS: limit(1),
  // docs/capacity.md: 12 hubs per 10,000 Socket.IO connections keeps each ping round under 100 ms.
  SOCKET_IO_HUBS: limit(12),
  SOCKET_IO_PING_INTERVAL_MS: limit(25_000),
  SOCKET_IO_PING_TIMEOUT_MS: limit(20_000),
  SOCKET_IO_CONNECT_TIMEOUT_MS: limit(5_000),
  D1_COPY_INTERVAL_MS: limit(60_000),
  D1_COPY_MAX_PENDING: limit(200),
  CONTACT_POLICY: Optional.pipe(z.enum(["off", "flag", "mask"]).default("off")),
  ATTACHMENT_TYPES: Optional.transform((v, ctx) => {
    try {
      return parseAttachmentTypes(v);
    } catch (error) {
      ctx.addIssue({ code: "custom", message: error instanceof Error ? error.message : "invalid" });
      return z.NEVER;
    }
  }),
  ATTACHMENT_MAX_BYTES: limit(10 * 1024 * 1024),
  NOTIFY_WEBHOOK_URL: Optional.pipe(z.url({ protocol: /^https?$/ }).optional()),
  NOTIFY_WEBHOOK_SECRET: Optional.pipe(Secret.optional()),
  NOTIFY_COALESCE_SECONDS: limit(60),
  // The secret being replaced, still accepted (or also signed with) while a rotation goes on.
  JWT_SECRET_PREVIOUS: Optional.pipe(Secret.optional()),
  PAYMENT_WEBHOOK_SECRET_PREVIOUS: Optional.pipe(Secret.optional()),
  NOTIFY_WEBHOOK_SECRET_PREVIOUS: Optional.pipe(Secret.optional()),
  D1_RETENTION_DAYS: optionalCount(),
  DATA_JURISDICTION: Optional.pipe(z.enum(["eu"]).optional()),
});

/** A positive integer var that may be left unset (undefined). */
function optionalCount() {
  return z
    .union([z.string(), z.number()])
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === "") return undefined;
      const n = Number(v);
      if (!Number.isInteger(n) || n <= 0) {
        ctx.addIssue({ code: "custom", message: "must be a positive integer" });
        return z.NEVER;
      }
      return n;
    });
}

/** A positive integer var with a default; vars arrive as strings (or numbers from wrangler.toml). */
function limit(fallback: number) {
  return optionalCount().transform((n) => n ?? fallback);
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
  /** Joins (each may replay up to REPLAY_LIMIT messages): token buckets per socket and per user. */
  joinRatePerSocket: number;
  joinBurstPerSocket: number;
  joinRatePerUser: number;
  joinBurstPerUser: number;
  /**
   * Every frame a socket sends, whatever it is: a token bucket per connection. Past it frames are
   * dropped unread; a connection that keeps going is closed (see sockets/frame-budget.ts).
   */
  frameRatePerSocket: number;
  frameBurstPerSocket: number;
};

export type Config = {
  /** Exact origins browsers may open sockets from; undefined allows any. */
  allowedOrigins: string[] | undefined;
  limits: Limits;
  /** Admin feed objects; each booking and support thread goes to one (see delivery/targets.ts). */
  adminFeedShards: number;
  /** Objects that hold Socket.IO connections; a connection lands on one at random. */
  socketIoHubs: number;
  /** Engine.IO's heartbeat (Socket.IO's defaults): the server pings every interval, and a
   * connection that has not answered within interval + timeout is closed (by either side). */
  socketIoPing: { intervalMs: number; timeoutMs: number };
  /** How long a Socket.IO connection may stay open without sending its CONNECT packet. */
  socketIoConnectTimeoutMs: number;
  /**
   * How far D1 may lag a conversation: it copies this long after the first write it has not
   * copied (spread ±25%), or at once when that many writes wait (see conversation/conversation.ts).
   */
  d1Copy: { intervalMs: number; maxPending: number };
  /** Contact details in messages between the parties: let through, list for admins, or hide from the other party. */
  contactPolicy: ContactPolicy;
  /** What may be uploaded (checked from the bytes) and how large. */
  attachments: { kinds: AttachmentKind[]; maxBytes: number };
  /** Days D1 keeps a message before the daily job archives it to R2 (ARCHIVES); null keeps them all. */
  retentionDays: number | null;
  /** Where every Durable Object lives (`jurisdiction("eu")`), or null: anywhere. */
  jurisdiction: "eu" | null;
  /** Where notifications for users with no live socket go (signed with `secret`), or null: off. */
  notify: { url: string; secret: string; previousSecret?: string; coalesceMs: number } | null;
  environment: string;
  jwtSecret: string | undefined;
  /** Accepted as well as jwtSecret while it is being rotated out. */
  jwtSecretPrevious: string | undefined;
  jwksUrl: string | undefined;
  jwtIssuer: string | undefined;
  jwtAudience: string | undefined;
  chatTokenSecret: string;
  paymentWebhookSecret: string;
  /** Accepted as well while the payment provider rotates its secret. */
  paymentWebhookSecretPrevious: string | undefined;
};

const cache = new WeakMap<object, Config>();

/**
 * What is wrong with the configuration, one line each, naming variables but never their values:
 * `/health` reports these, and the Worker refuses to serve while there are any.
 */
export function configProblems(env: Env): string[] {
  const checked = checkConfig(env);
  return "problems" in checked ? checked.problems : [];
}

function checkConfig(env: Env): { config: Config } | { problems: string[] } {
  const parsed = ConfigSchema.safeParse(env);
  const problems: string[] = [];
  if (!env.JWT_SECRET && !env.JWT_JWKS_URL) problems.push("set JWT_SECRET or JWT_JWKS_URL");
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      problems.push(`${issue.path.join(".") || "configuration"}: ${issue.message}`);
    }
    return { problems };
  }
  const c = parsed.data;
  // A shared JWKS (any tenant of the same identity provider) would vouch for other apps' users.
  if (c.JWT_JWKS_URL && (!c.JWT_ISSUER || !c.JWT_AUDIENCE)) {
    problems.push("JWT_JWKS_URL needs JWT_ISSUER and JWT_AUDIENCE");
  }
  if (c.D1_RETENTION_DAYS && !env.ARCHIVES) {
    problems.push("D1_RETENTION_DAYS needs the ARCHIVES R2 bucket bound");
  }
  if (c.NOTIFY_WEBHOOK_URL && !c.NOTIFY_WEBHOOK_SECRET) {
    problems.push("NOTIFY_WEBHOOK_URL needs NOTIFY_WEBHOOK_SECRET");
  }
  const secrets = {
    JWT_SECRET: c.JWT_SECRET,
    CHAT_TOKEN_SECRET: c.CHAT_TOKEN_SECRET,
    PAYMENT_WEBHOOK_SECRET: c.PAYMENT_WEBHOOK_SECRET,
    NOTIFY_WEBHOOK_SECRET: c.NOTIFY_WEBHOOK_SECRET,
    JWT_SECRET_PREVIOUS: c.JWT_SECRET_PREVIOUS,
    PAYMENT_WEBHOOK_SECRET_PREVIOUS: c.PAYMENT_WEBHOOK_SECRET_PREVIOUS,
    NOTIFY_WEBHOOK_SECRET_PREVIOUS: c.NOTIFY_WEBHOOK_SECRET_PREVIOUS,
  };
  if (c.ENVIRONMENT !== "development") {
    for (const [name, value] of Object.entries(secrets)) {
      if (value?.startsWith(DEV_SECRET_PREFIX) || (value && DEV_SECRETS.has(value))) {
        problems.push(`${name} is a development secret (only ENVIRONMENT=development may use it)`);
      }
    }
  }
  const values = Object.values(secrets).filter((v): v is string => Boolean(v));
  if (new Set(values).size !== values.length) problems.push("each secret must be different from the others");
  if (problems.length > 0) return { problems };
  return { config: toConfig(c) };
}

/** The committed development values (.dev.vars): public, so never acceptable in a deployment. */
const DEV_SECRETS = new Set([
  "spana-dev-jwt-secret-do-not-use-in-production",
  "spana-dev-chat-token-secret-do-not-use-in-production",
  "spana-dev-payment-webhook-secret-do-not-use-in-production",
]);

/** Reads and checks configuration once per env; a misconfigured deployment answers 500, never runs insecurely. */
export function getConfig(env: Env): Config {
  const cached = cache.get(env);
  if (cached) return cached;
  const checked = checkConfig(env);
  if ("problems" in checked) {
    console.error("configuration invalid", checked.problems.join("; "));
    throw new ApiError("misconfigured", "Server is misconfigured");
  }
  cache.set(env, checked.config);
  return checked.config;
}

function toConfig(c: z.infer<typeof ConfigSchema>): Config {
  return {
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
      joinRatePerSocket: c.JOIN_RATE_PER_SOCKET,
      joinBurstPerSocket: c.JOIN_BURST_PER_SOCKET,
      joinRatePerUser: c.JOIN_RATE_PER_USER,
      joinBurstPerUser: c.JOIN_BURST_PER_USER,
      frameRatePerSocket: c.FRAME_RATE_PER_SOCKET,
      frameBurstPerSocket: c.FRAME_BURST_PER_SOCKET,
    },
    adminFeedShards: c.ADMIN_FEED_SHARDS,
    socketIoHubs: c.SOCKET_IO_HUBS,
    socketIoPing: { intervalMs: c.SOCKET_IO_PING_INTERVAL_MS, timeoutMs: c.SOCKET_IO_PING_TIMEOUT_MS },
    socketIoConnectTimeoutMs: c.SOCKET_IO_CONNECT_TIMEOUT_MS,
    d1Copy: { intervalMs: c.D1_COPY_INTERVAL_MS, maxPending: c.D1_COPY_MAX_PENDING },
    contactPolicy: c.CONTACT_POLICY,
    retentionDays: c.D1_RETENTION_DAYS ?? null,
    jurisdiction: c.DATA_JURISDICTION ?? null,
    attachments: { kinds: c.ATTACHMENT_TYPES, maxBytes: c.ATTACHMENT_MAX_BYTES },
    notify:
      c.NOTIFY_WEBHOOK_URL && c.NOTIFY_WEBHOOK_SECRET
        ? {
            url: c.NOTIFY_WEBHOOK_URL,
            secret: c.NOTIFY_WEBHOOK_SECRET,
            ...(c.NOTIFY_WEBHOOK_SECRET_PREVIOUS ? { previousSecret: c.NOTIFY_WEBHOOK_SECRET_PREVIOUS } : {}),
            coalesceMs: c.NOTIFY_COALESCE_SECONDS * 1000,
          }
        : null,
    environment: c.ENVIRONMENT,
    jwtSecret: c.JWT_SECRET,
    jwtSecretPrevious: c.JWT_SECRET_PREVIOUS,
    jwksUrl: c.JWT_JWKS_URL,
    jwtIssuer: c.JWT_ISSUER,
    jwtAudience: c.JWT_AUDIENCE,
    chatTokenSecret: c.CHAT_TOKEN_SECRET,
    paymentWebhookSecret: c.PAYMENT_WEBHOOK_SECRET,
    paymentWebhookSecretPrevious: c.PAYMENT_WEBHOOK_SECRET_PREVIOUS,
  };
}
