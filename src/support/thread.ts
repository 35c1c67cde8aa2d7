import { DurableObject } from "cloudflare:workers";
import type { Identity } from "../auth/jwt";
import { getConfig } from "../config";
import { contentError } from "../conversation/content";
import { Conversation } from "../conversation/conversation";
import { ObjectStorage } from "../conversation/object-storage";
import { fail, ok, type RoomResult } from "../errors";
import { describeError } from "../log";
import { meter } from "../metering/meter";
import type { HistoryQuery, SupportHistoryResponse, SupportMessage, SupportMessageBody } from "../protocol";
import { durableDatabase } from "../storage/durable-db";
import { transaction } from "../storage/transaction";
import { supportConsumers } from "./consumers";
import migrations from "./migrations/migrations.js";
import { presentSupportMessage } from "./present";
import * as schema from "./schema";

export const CUSTOMERS_CANNOT_CHAT = "Customers cannot chat with admin directly";

const counters = meter("SupportThread");

/**
 * A provider's support thread with the admins (chatType `admin`). Only the provider can start
 * it; admins reply in threads that exist. Messages reach the provider's inbox, the admin feed and
 * D1 by cursor, as booking messages do.
 */
export class SupportThread extends DurableObject<Env> {
  private readonly storage: ObjectStorage;
  private readonly db;
  private readonly conversation: Conversation;
  private providerIdCache: string | null | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.storage = new ObjectStorage(ctx.storage, counters, migrations, ["thread", "messages"]);
    this.db = durableDatabase(ctx.storage, this.storage.sql);
    this.conversation = new Conversation(ctx, this.db, counters, () =>
      supportConsumers({
        env,
        counters,
        feedShards: getConfig(env).adminFeedShards,
        providerId: this.providerId() ?? "",
        log: this.conversation.log,
      }),
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
    const started = this.storage.exists();
    if (identity.role === "admin" && !started) {
      return fail(409, "thread_not_started", "Only the provider can start a support thread");
    }
    // A resend is answered with the stored copy before anything else, as in booking chat.
    const log = this.conversation.log;
    const stored =
      started && body.clientMessageId ? log.findResend(identity.userId, body.clientMessageId) : null;
    if (stored) return ok({ message: presentSupportMessage(providerId, stored), duplicate: true });
    const invalid = contentError(body.message, body.metadata, getConfig(this.env).limits.maxMessageChars);
    if (invalid) return fail(400, invalid.code, invalid.message);

    const message = transaction(this.ctx.storage, [this.storage, this.conversation], () => {
      if (!this.storage.exists()) {
        this.storage.create();
        this.db.insert(schema.thread).values({ providerId, startedAt: new Date().toISOString() }).run();
        this.providerIdCache = providerId;
        this.conversation.created();
      }
      return log.append(
        {
          senderId: identity.userId,
          senderRole: identity.role === "admin" ? "admin" : "provider",
          content: body.message,
          clientMessageId: body.clientMessageId ?? null,
          metadata: body.metadata ?? null,
        },
        new Date().toISOString(),
      );
    });
    counters.messages++;
    // The response is the sender's acknowledgement; the inbox, the admin feed and D1 follow.
    this.conversation
      .afterWrite()
      .catch((error) => console.error("support thread: delivery", describeError(error)));
    return ok({ message: presentSupportMessage(providerId, message), duplicate: false });
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
    if (!this.storage.exists()) return ok({ providerId, messages: [], nextBefore: null });
    const page = this.conversation.log.page(query.limit, { before: query.before, after: query.after });
    return ok({
      providerId,
      messages: page.messages.map((m) => presentSupportMessage(providerId, m)),
      nextBefore: page.nextBefore,
    });
  }

  override async alarm(): Promise<void> {
    if (this.storage.exists()) await this.conversation.alarm();
  }

  private providerId(): string | null {
    if (this.providerIdCache === undefined) {
      this.providerIdCache = this.storage.exists()
        ? (this.db.select().from(schema.thread).get()?.providerId ?? null)
        : null;
    }
    return this.providerIdCache;
  }
}
