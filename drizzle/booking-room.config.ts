import { defineConfig } from "drizzle-kit";

// The booking-room Durable Object's own SQLite; applied by the object itself (see src/storage/object-schema.ts).
export default defineConfig({
  dialect: "sqlite",
  driver: "durable-sqlite",
  schema: "./src/booking-room/schema.ts",
  out: "./src/booking-room/migrations",
});
