import { type IssuedToken, verifyChatToken } from "../auth/chat-token";
import type {
  Booking,
  BookingStatus,
  PartyRole,
  PaymentStatus,
  TerminationReason,
  UserRole,
} from "../protocol";
import { applySchema, hasSchema } from "../storage/versioned-schema";
import { ROOM_SCHEMA } from "./room-schema";

/** The booking row as the room stores it, tokens included. Never sent to a client as is. */
export type BookingRecord = {
  id: string;
  customerId: string;
  providerId: string;
  serviceId: string | null;
  scheduledAt: string | null;
  notes: string | null;
  status: BookingStatus;
  paymentStatus: PaymentStatus;
  paymentReference: string | null;
  providerAccepted: boolean;
  customerChatToken: string | null;
  customerTokenIssuedAt: string | null;
  providerChatToken: string | null;
  providerTokenIssuedAt: string | null;
  chatActive: boolean;
  chatReadyAt: string | null;
  chatTerminatedAt: string | null;
  chatTerminationReason: TerminationReason | null;
  createdAt: string;
  updatedAt: string;
  version: number;
  d1Version: number;
};

type BookingRow = {
  id: string;
  customer_id: string;
  provider_id: string;
  service_id: string | null;
  scheduled_at: string | null;
  notes: string | null;
  status: BookingStatus;
  payment_status: PaymentStatus;
  payment_reference: string | null;
  provider_accepted: number;
  customer_chat_token: string | null;
  customer_token_issued_at: string | null;
  provider_chat_token: string | null;
  provider_token_issued_at: string | null;
  chat_active: number;
  chat_ready_at: string | null;
  chat_terminated_at: string | null;
  chat_termination_reason: TerminationReason | null;
  created_at: string;
  updated_at: string;
  version: number;
  d1_version: number;
};

const COLUMNS: Record<Exclude<keyof BookingRecord, "version" | "d1Version">, keyof BookingRow> = {
  id: "id",
  customerId: "customer_id",
  providerId: "provider_id",
  serviceId: "service_id",
  scheduledAt: "scheduled_at",
  notes: "notes",
  status: "status",
  paymentStatus: "payment_status",
  paymentReference: "payment_reference",
  providerAccepted: "provider_accepted",
  customerChatToken: "customer_chat_token",
  customerTokenIssuedAt: "customer_token_issued_at",
  providerChatToken: "provider_chat_token",
  providerTokenIssuedAt: "provider_token_issued_at",
  chatActive: "chat_active",
  chatReadyAt: "chat_ready_at",
  chatTerminatedAt: "chat_terminated_at",
  chatTerminationReason: "chat_termination_reason",
  createdAt: "created_at",
  updatedAt: "updated_at",
};

function fromRow(row: BookingRow): BookingRecord {
  return {
    id: row.id,
    customerId: row.customer_id,
    providerId: row.provider_id,
    serviceId: row.service_id,
    scheduledAt: row.scheduled_at,
    notes: row.notes,
    status: row.status,
    paymentStatus: row.payment_status,
    paymentReference: row.payment_reference,
    providerAccepted: row.provider_accepted === 1,
    customerChatToken: row.customer_chat_token,
    customerTokenIssuedAt: row.customer_token_issued_at,
    providerChatToken: row.provider_chat_token,
    providerTokenIssuedAt: row.provider_token_issued_at,
    chatActive: row.chat_active === 1,
    chatReadyAt: row.chat_ready_at,
    chatTerminatedAt: row.chat_terminated_at,
    chatTerminationReason: row.chat_termination_reason,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    version: row.version,
    d1Version: row.d1_version,
  };
}

function toColumnValue(value: BookingRecord[keyof BookingRecord]): string | number | null {
  if (typeof value === "boolean") return value ? 1 : 0;
  return value;
}

/**
 * Reads and writes the room's single booking row; owns the room's schema. The row is read on
 * every frame, so it is kept in memory; any write drops the copy, and so must a rolled-back
 * transaction (see `forget`), since it may have cached a row that never committed.
 */
export class BookingStore {
  private schemaReady: boolean;
  /** undefined: not read since the last write. */
  private cached: BookingRecord | null | undefined;

  /** Upgrades an existing room's schema; call inside a transaction. */
  constructor(private readonly sql: SqlStorage) {
    this.schemaReady = hasSchema(sql);
    if (this.schemaReady) applySchema(sql, ROOM_SCHEMA);
  }

  get(): BookingRecord | null {
    if (!this.schemaReady) return null;
    if (this.cached === undefined) {
      const row = this.sql.exec<BookingRow>("SELECT * FROM booking LIMIT 1").toArray()[0];
      this.cached = row ? Object.freeze(fromRow(row)) : null;
    }
    return this.cached;
  }

  /** Drops the in-memory copy; the next `get` reads storage. */
  forget(): void {
    this.cached = undefined;
  }

  insert(record: Omit<BookingRecord, "version" | "d1Version">): void {
    if (!this.schemaReady) {
      applySchema(this.sql, ROOM_SCHEMA);
      this.schemaReady = true;
    }
    const keys = Object.keys(COLUMNS) as (keyof typeof COLUMNS)[];
    const columns = keys.map((k) => COLUMNS[k]);
    this.sql.exec(
      `INSERT INTO booking (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`,
      ...keys.map((k) => toColumnValue(record[k])),
    );
    this.forget();
  }

  /** Applies a change and bumps the version, so the outbox knows D1 is behind. */
  update(changes: Partial<Omit<BookingRecord, "id" | "version" | "d1Version">>): void {
    const keys = Object.keys(changes) as (keyof typeof changes)[];
    const assignments = keys.map((k) => `${COLUMNS[k]} = ?`);
    this.sql.exec(
      `UPDATE booking SET ${[...assignments, "version = version + 1"].join(", ")}`,
      ...keys.map((k) => toColumnValue(changes[k] ?? null)),
    );
    this.forget();
  }

  markMirrored(version: number): void {
    this.sql.exec("UPDATE booking SET d1_version = MAX(d1_version, ?)", version);
    this.forget();
  }
}

/** The public view of a booking: no tokens, no internal bookkeeping. */
export function toPublicBooking(record: BookingRecord): Booking {
  return {
    id: record.id,
    customerId: record.customerId,
    providerId: record.providerId,
    serviceId: record.serviceId,
    scheduledAt: record.scheduledAt,
    notes: record.notes,
    status: record.status,
    paymentStatus: record.paymentStatus,
    providerAccepted: record.providerAccepted,
    chatActive: record.chatActive,
    chatTerminatedAt: record.chatTerminatedAt,
    chatTerminationReason: record.chatTerminationReason,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}

export function issuedTokens(record: BookingRecord): Record<PartyRole, IssuedToken> {
  return {
    customer: { role: "customer", userId: record.customerId, token: record.customerChatToken },
    provider: { role: "provider", userId: record.providerId, token: record.providerChatToken },
  };
}

/** Which party of this booking a caller is, if any: the user id and the JWT role must both match. */
export function partyOf(
  record: Pick<BookingRecord, "customerId" | "providerId">,
  who: { userId: string; role: UserRole },
): PartyRole | null {
  if (who.role === "customer" && who.userId === record.customerId) return "customer";
  if (who.role === "provider" && who.userId === record.providerId) return "provider";
  return null;
}

/** A presented chat token is good only if it is this booking's token of the caller's own party. */
export function holdsChatToken(
  record: BookingRecord,
  who: { userId: string; role: UserRole },
  presented: string | undefined,
): boolean {
  if (presented === undefined) return false;
  const party = partyOf(record, who);
  const granted = verifyChatToken(presented, record.id, who.userId, issuedTokens(record));
  return party !== null && granted === party;
}

export function isTerminal(status: BookingStatus): boolean {
  return status === "completed" || status === "cancelled" || status === "declined";
}
