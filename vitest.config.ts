import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { outboundForTests } from "./test/fixtures/identity-provider.ts";

// Test-only secrets; the Worker refuses the committed development ones outside development.
export const TEST_BINDINGS = {
  ENVIRONMENT: "test",
  JWT_SECRET: "test-jwt-secret-0123456789abcdef",
  CHAT_TOKEN_SECRET: "test-chat-token-secret-0123456789",
  PAYMENT_WEBHOOK_SECRET: "test-payment-webhook-secret-012345",
  // Tests send bursts far above a person's pace; the rate-limit test floods past these.
  SEND_RATE_PER_SOCKET: "20",
  SEND_BURST_PER_SOCKET: "60",
  SEND_RATE_PER_USER: "40",
  SEND_BURST_PER_USER: "120",
  MAX_SOCKETS_PER_USER: "4",
  // Every frame counts against a socket's budget (tests send bursts and fuzz far past a person's
  // pace); the flood tests go past these.
  FRAME_RATE_PER_SOCKET: "50",
  FRAME_BURST_PER_SOCKET: "600",
  SOCKET_IO_CONNECT_TIMEOUT_MS: "3000",
  ALLOWED_ORIGINS: "https://app.spana.test",
  // Three admin feed shards (wrangler.toml has four): tests hear every shard, as admins do.
  ADMIN_FEED_SHARDS: "3",
};

/** Files that run with the contact guard masking (CONTACT_POLICY=mask); every other file runs with it off. */
const MASKING_TESTS = ["test/moderation.test.ts"];
/** Files that run with D1_RETENTION_DAYS=30; every other file keeps everything in D1. */
const RETENTION_TESTS = ["test/retention.test.ts", "test/data-requests.test.ts"];

export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations"));
  const project = (name: string, bindings: Record<string, string>, include: string[], exclude: string[]) => ({
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: { ...TEST_BINDINGS, ...bindings, TEST_MIGRATIONS: migrations },
          // Two D1 shards (wrangler.toml declares one): every test runs sharded.
          d1Databases: { DB: "spana-chat-test-0", DB_1: "spana-chat-test-1" },
          // The Worker's own fetches (a JWKS) are answered here: tests never reach the network.
          outboundService: outboundForTests,
        },
      }),
    ],
    test: {
      name,
      include,
      // test/node drives the running service from Node (vitest.node.config.ts).
      exclude: ["test/node/**", ...exclude],
      setupFiles: ["./test/apply-migrations.ts"],
      testTimeout: 20_000,
    },
  });
  return {
    test: {
      // The service's own log lines about a fault a test injected on purpose (each says "injected"),
      // or about the test runtime closing under it (below).
      onConsoleLog: (log: string) => !/\binjected\b|EnvironmentTeardownError/.test(log),
      // When a test file ends, the pool rejects its module loader's pending calls with this error.
      // Work the file started can still be running then (a hub told that a socket closed, an alarm):
      // every Durable Object event imports the Worker through that loader, so the rejection lands in
      // the service and is reported as unhandled, at random, failing a run whose tests all passed.
      // It says nothing about the service, so only it is ignored; every other unhandled error fails.
      onUnhandledError: (error: { name?: string }) => error.name !== "EnvironmentTeardownError",
      projects: [
        project("workers", {}, ["test/**/*.test.ts"], [...MASKING_TESTS, ...RETENTION_TESTS]),
        project("contact-guard-mask", { CONTACT_POLICY: "mask" }, MASKING_TESTS, []),
        project("retention", { D1_RETENTION_DAYS: "30" }, RETENTION_TESTS, []),
      ],
    },
  };
});
