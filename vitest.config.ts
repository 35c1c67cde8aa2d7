import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

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

export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations"));
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: { bindings: { ...TEST_BINDINGS, TEST_MIGRATIONS: migrations } },
      }),
    ],
    test: {
      include: ["test/**/*.test.ts"],
      // Those drive the running service from Node (vitest.node.config.ts).
      exclude: ["test/node/**"],
      setupFiles: ["./test/apply-migrations.ts"],
      testTimeout: 20_000,
    },
  };
});
