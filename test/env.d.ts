import type { D1Migration } from "cloudflare:test";

declare global {
  namespace Cloudflare {
    interface Env {
      TEST_MIGRATIONS: D1Migration[];
      /** The second D1 shard (vitest.config.ts). */
      DB_1: D1Database;
      // Set by vitest.config.ts (TEST_BINDINGS) for the tests only.
      MAX_SOCKETS_PER_USER: string;
      FRAME_RATE_PER_SOCKET: string;
      FRAME_BURST_PER_SOCKET: string;
      SOCKET_IO_CONNECT_TIMEOUT_MS: string;
    }
  }
}
