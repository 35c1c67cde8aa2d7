import { defineConfig } from "drizzle-kit";

// The support-thread Durable Object's own SQLite; applied by the object itself (see src/storage/object-schema.ts).
export default defineConfig({
  dialect: "sqlite",
  driver: "durable-sqlite",
  schema: "./src/support/schema.ts",
  out: "./src/support/migrations",
});
