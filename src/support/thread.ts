import { DurableObject } from "cloudflare:workers";
import type { Identity } from "../auth/jwt";
import { Background, RETRY_STATE_SCHEMA } from "../conversation/background";
import { contentError } from "../conversation/content";
import { D1_STATS_SCHEMA, D1Outbox, type MessageRow } from "../conversation/d1-outbox";
import {
  MESSAGES_CURSOR_SCHEMA,
  MESSAGES_SCHEMA,
  MessageStore,
  type StoredMessage,
} from "../conversation/message-store";
import { NOTIFY_OUTBOX_SCHEMA, NotifyOutbox } from "../delivery/notify-outbox";
import { ADMIN_FEED, inboxOf } from "../delivery/targets";
import { fail, ok, type RoomResult } from "../errors";
import type { HistoryQuery, SupportHistoryResponse, SupportMessage, SupportMessageBody } from "../protocol";
import { encode } from "../sockets/socket-state";
import { transaction } from "../storage/transaction";
import { applySchema, hasSchema, type SchemaSteps } from "../storage/versioned-schema";

const THREAD_SCHEMA: SchemaSteps = [
  [
    "CREATE TABLE thread (provider_id TEXT PRIMARY KEY, started_at TEXT NOT NULL)",
    ...MESSAGES_SCHEMA,
    ...NOTIFY_OUTBOX_SCHEMA,
    ...RETRY_STATE_SCHEMA,
    ...D1_STATS_SCHEMA,
  ],
  MESSAGES_CURSOR_SCHEMA,
];

export const CUSTOMERS_CANNOT_CHAT = "Customers cannot chat with admin directly";

/**
 * A provider's support thread with the admins (chatType `admin`). Only the provider can start
 * it; admins reply in threads that exist. Messages reach the provider's inbox, the admin feed and D1.
 */
export class SupportThread extends DurableObject<Env> {
  private readonly messages: MessageStore;
  private readonly background: Background;
  private started: boolean;
  /** Created with the thread (its provider names the source) and kept: it remembers what it delivered. */
  private notify: NotifyOutbox | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.started = ctx.storage.transactionSync(() => {
      const exists = hasSchema(ctx.storage.sql);
      if (exists) applySchema(ctx.storage.sql, THREAD_SCHEMA);
      return exists;
    });
    this.messages = new MessageStore(ctx.storage.sql);
    this.background = new Background(
      ctx,
      "support thread",
      () => {
        const providerId = this.providerId();
        return providerId
          ? new D1Outbox(ctx.storage.sql, env.DB, this.messages, supportMessageRow(providerId))
          : null;
      },
      () => this.notifyOutbox(),
    );
  }

  async post(
    identity: Identity,
    providerId: string,
    body: SupportMessageBody,
  ): Promise<RoomResult<{ message: SupportMessage; duplicate: boolean }>> {
    if (identity.role === "customer") return fail(403, "forbidden", CUSTOMERS_CANNOT_CHAT);
    if (identity.role === "provider" && identity.userId !== providerId) {
      return fail(403, "forbidden", "Providers can write only in their own support thread");
    }
    if (identity.role === "admin" && !this.started) {
      return fail(409, "thread_not_started", "Only the provider can start a support thread");
    }
    // A resend is answered with the stored copy before anything else, as in booking chat.
    const stored =
      this.started && body.clientMessageId
        ? this.messages.findSent(identity.userId, body.clientMessageId)
        : null;
    if (stored) return ok({ message: presentSupportMessage(providerId, stored), duplicate: true });
    const invalid = contentError(body.message, body.metadata);
    if (invalid) return fail(400, invalid.code, invalid.message);

    const caches = [this.messages, ...(this.notify ? [this.notify] : [])];
    const result = transaction(this.ctx.storage, caches, () => {
      if (!this.started) {
        applySchema(this.ctx.storage.sql, THREAD_SCHEMA);
        this.ctx.storage.sql.exec(
          "INSERT INTO thread (provider_id, started_at) VALUES (?, ?)",
          providerId,
          new Date().toISOString(),
        );
        this.started = true;
      }
      const stored = body.clientMessageId
        ? this.messages.findSent(identity.userId, body.clientMessageId)
        : null;
      if (stored) return { message: stored, duplicate: true };
      const message = this.messages.append(
        {
          senderId: identity.userId,
          senderRole: identity.role === "admin" ? "admin" : "provider",
          content: body.message,
          clientMessageId: body.clientMessageId ?? null,
          metadata: body.metadata ?? null,
        },
        new Date().toISOString(),
      );
      const frame = encode("support-chat", presentSupportMessage(providerId, message));
      this.outboxFor(providerId).enqueueAll([
        { target: inboxOf(providerId, "provider"), frame },
        { target: ADMIN_FEED, frame },
      ]);
      return { message };
    });
    // The response is the sender's acknowledgement; the inbox and the admin feed follow.
    await this.background.afterWrite({ awaitDelivery: false });
    return ok({ message: presentSupportMessage(providerId, result.message), duplicate: false });
  }

  async history(
    identity: Identity,
    providerId: string,
    query: HistoryQuery,
  ): Promise<RoomResult<SupportHistoryResponse>> {
    if (identity.role === "customer") return fail(403, "forbidden", CUSTOMERS_CANNOT_CHAT);
    if (identity.role === "provider" && identity.userId !== providerId) {
      return fail(403, "forbidden", "Providers can read only their own support thread");
    }
    if (!this.started) return ok({ providerId, messages: [], nextBefore: null });
    const page = this.messages.page(query.limit, { before: query.before, after: query.after });
    return ok({
      providerId,
      messages: page.messages.map((m) => presentSupportMessage(providerId, m)),
      nextBefore: page.nextBefore,
    });
  }

  override async alarm(): Promise<void> {
    await this.background.alarm();
  }

  private notifyOutbox(): NotifyOutbox | null {
    if (this.notify) return this.notify;
    const providerId = this.providerId();
    return providerId ? this.outboxFor(providerId) : null;
  }

  private outboxFor(providerId: string): NotifyOutbox {
    this.notify ??= new NotifyOutbox(this.ctx.storage.sql, this.env, `support:${providerId}`);
    return this.notify;
  }

  private providerId(): string | null {
    if (!this.started) return null;
    return (
      this.ctx.storage.sql.exec<{ provider_id: string }>("SELECT provider_id FROM thread").toArray()[0]
        ?.provider_id ?? null
    );
  }
}

export function presentSupportMessage(providerId: string, m: StoredMessage): SupportMessage {
  const senderRole = m.senderRole === "admin" ? "admin" : "provider";
  return { ...m, providerId, senderRole, chatType: "admin", isRead: false };
}

function supportMessageRow(providerId: string) {
  return (m: StoredMessage): MessageRow => ({
    id: m.id,
    bookingId: null,
    supportProviderId: providerId,
    seq: m.seq,
    senderId: m.senderId,
    senderRole: m.senderRole,
    content: m.content,
    chatType: "admin",
    clientMessageId: m.clientMessageId,
    metadata: m.metadata,
    isRead: false,
    createdAt: m.createdAt,
  });
}
