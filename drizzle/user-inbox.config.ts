import { defineConfig } from "drizzle-kit";

// The user-inbox Durable Object's own SQLite; applied by the object itself (see src/storage/object-schema.ts).
export default defineConfig({
  dialect: "sqlite",
  driver: "durable-sqlite",
  schema: "./src/user-inbox/schema.ts",
  out: "./src/user-inbox/migrations",
});
