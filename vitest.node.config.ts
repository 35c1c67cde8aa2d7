import { defineConfig } from "vitest/config";

// Tests that drive the running service from Node with real client libraries (socket.io-client);
// each file starts the built Worker (npm run build) on local workerd. `npm run test:node`.
export default defineConfig({
  test: {
    include: ["test/node/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
