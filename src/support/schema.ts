import { sqliteTable, text } from "drizzle-orm/sqlite-core";

export { consumerPositions, messages } from "../conversation/schema";

/** The thread's one row: whose it is. Written by the provider's first message. */
export const thread = sqliteTable("thread", {
  providerId: text("provider_id").primaryKey(),
  startedAt: text("started_at").notNull(),
});
