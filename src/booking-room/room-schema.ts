import { RETRY_STATE_SCHEMA } from "../conversation/background";
import { D1_STATS_SCHEMA } from "../conversation/d1-outbox";
import { MESSAGES_CURSOR_SCHEMA, MESSAGES_SCHEMA } from "../conversation/message-store";
import { NOTIFY_OUTBOX_SCHEMA } from "../delivery/notify-outbox";
import type { SchemaSteps } from "../storage/versioned-schema";
import { READ_STATE_SCHEMA } from "./read-state";

/**
 * The room's own SQLite schema. A room gets it when its booking is created, so a request for a
 * booking id that does not exist leaves no storage behind.
 */
export const ROOM_SCHEMA: SchemaSteps = [
  [
    `CREATE TABLE booking (
      id TEXT PRIMARY KEY,
      customer_id TEXT NOT NULL,
      provider_id TEXT NOT NULL,
      service_id TEXT,
      scheduled_at TEXT,
      notes TEXT,
      status TEXT NOT NULL,
      payment_status TEXT NOT NULL,
      payment_reference TEXT,
      provider_accepted INTEGER NOT NULL DEFAULT 0,
      customer_chat_token TEXT,
      customer_token_issued_at TEXT,
      provider_chat_token TEXT,
      provider_token_issued_at TEXT,
      chat_active INTEGER NOT NULL DEFAULT 0,
      chat_ready_at TEXT,
      chat_terminated_at TEXT,
      chat_termination_reason TEXT,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL,
      version INTEGER NOT NULL DEFAULT 1,
      d1_version INTEGER NOT NULL DEFAULT 0
    )`,
    ...MESSAGES_SCHEMA,
    ...NOTIFY_OUTBOX_SCHEMA,
    ...RETRY_STATE_SCHEMA,
    ...D1_STATS_SCHEMA,
    ...READ_STATE_SCHEMA,
  ],
  MESSAGES_CURSOR_SCHEMA,
];
