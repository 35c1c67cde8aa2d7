import { DurableObject } from "cloudflare:workers";
import type { Identity } from "../auth/jwt";
import type { ExportPage } from "../booking-room/room";
import { getConfig } from "../config";
import { contentError } from "../conversation/content";
import { Conversation } from "../conversation/conversation";
import type { StoredMessage } from "../conversation/message-log";
import { ObjectStorage } from "../conversation/object-storage";
import { database } from "../db/client";
import { refusedByD1 } from "../db/retry-copy";
import { messages as d1Messages } from "../db/schema";
import { d1Shard, recordedShard, recordShard } from "../db/shards";
import { FeedConsumer } from "../delivery/feed-consumer";
import { ReceiverGates } from "../delivery/gates";
import { sioListenerName } from "../delivery/targets";
import { fail, ok, type Result } from "../errors";
import { type JsonText, jsonText } from "../json-response";
import { describeError } from "../log";
import { meter } from "../metering/meter";
import type {
  ExportLine,
  HistoryQuery,
  SupportHistoryResponse,
  SupportMessage,
  SupportMessageBody,
} from "../protocol";
import { toNdjson } from "../retention/archive-format";
import { HubSet } from "../socket-io/hub-set";
import { durableDatabase } from "../storage/durable-db";
import { transaction } from "../storage/transaction";
import { supportConsumers, toSupportRow } from "./consumers";
import migrations from "./migrations/migrations.js";
import { presentSupportMessage } from "./present";
import * as schema from "./schema";

export const CUSTOMERS_CANNOT_CHAT = "Customers cannot chat with admin directly";

/** A stored support message, as JSON, and whether it was a resend. */
export type PostedSupportMessage = { messageJson: JsonText<SupportMessage>; duplicate: boolean };

function posted(providerId: string, message: StoredMessage, duplicate: boolean): PostedSupportMessage {
  return { messageJson: jsonText(presentSupportMessage(providerId, message)), duplicate };
}

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
  /** Socket.IO hubs where admins watch the feed: pushed this thread's messages like any receiver. */
  private readonly hubs: HubSet;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.storage = new ObjectStorage(ctx.storage, counters, migrations, ["thread", "messages"]);
    this.db = durableDatabase(ctx.storage, this.storage.sql);
    this.hubs = new HubSet(ctx.storage, "socketIoHubs", counters);
    const gates = new ReceiverGates(ctx.storage, counters);
    const schedule = () => getConfig(env).d1Copy;
    this.conversation = new Conversation(
      ctx,
      this.db,
      counters,
      () =>
        supportConsumers({
          env,
          counters,
          gates,
          hubs: this.hubs.hubs(),
          onHubsWanted: (hubs, from) => {
            const added = hubs.filter((hub) => !this.hubs.hubs().includes(hub));
            if (added.length === 0) return;
            for (const hub of added) this.hubs.add(hub);
            this.conversation.refreshConsumers(
              Object.fromEntries(added.map((hub) => [sioListenerName(hub), from])),
            );
          },
          onHubGone: (hub) => {
            this.hubs.remove(hub);
            this.conversation.refreshConsumers();
          },
          feedShards: getConfig(env).adminFeedShards,
          providerId: this.providerId() ?? "",
          log: this.conversation.log,
          d1: d1Shard(env, recordedShard(ctx.storage.kv)),
        }),
      schedule,
    );
    if (this.storage.exists()) this.conversation.woke();
  }

  async post(
    identity: Identity,
    providerId: string,
    body: SupportMessageBody,
  ): Promise<Result<PostedSupportMessage>> {
    if (identity.role === "customer") return fail("forbidden", CUSTOMERS_CANNOT_CHAT);
    if (identity.role === "provider" && identity.userId !== providerId) {
      return fail("forbidden", "Providers can write only in their own support thread");
    }
    const started = this.storage.exists();
    if (identity.role === "admin" && !started) {
      return fail("thread_not_started", "Only the provider can start a support thread");
    }
    // A resend is answered with the stored copy before anything else, as in booking chat.
    const log = this.conversation.log;
    const stored =
      started && body.clientMessageId ? log.findResend(identity.userId, body.clientMessageId) : null;
    if (stored) return ok(posted(providerId, stored, true));
    const invalid = contentError(body.message, body.metadata, getConfig(this.env).limits.maxMessageChars);
    if (invalid) return fail(invalid.code, invalid.message);

    const message = transaction(this.ctx.storage, [this.storage, this.conversation], () => {
      if (!this.storage.exists()) {
        this.storage.create();
        recordShard(this.ctx.storage.kv, this.env, `support:${providerId}`);
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
    return ok(posted(providerId, message, false));
  }

  async history(
    identity: Identity,
    providerId: string,
    query: HistoryQuery,
  ): Promise<Result<JsonText<SupportHistoryResponse>>> {
    if (identity.role === "customer") return fail("forbidden", CUSTOMERS_CANNOT_CHAT);
    if (identity.role === "provider" && identity.userId !== providerId) {
      return fail("forbidden", "Providers can read only their own support thread");
    }
    if (!this.storage.exists())
      return ok(jsonText<SupportHistoryResponse>({ providerId, messages: [], nextBefore: null }));
    const page = this.conversation.log.page(query.limit, { before: query.before, after: query.after });
    return ok(
      jsonText<SupportHistoryResponse>({
        providerId,
        messages: page.messages.map((m) => presentSupportMessage(providerId, m)),
        nextBefore: page.nextBefore,
      }),
    );
  }

  /** Up to `limit` messages after `afterSeq` for the provider's export, as NDJSON lines. */
  async exportPage(afterSeq: number, limit: number): Promise<ExportPage> {
    const providerId = this.providerId();
    if (!providerId) return { ndjson: "", messages: 0, nextAfter: null };
    const log = this.conversation.log;
    const messages = log.after(afterSeq, limit);
    const last = messages.at(-1);
    const lines: ExportLine[] = messages.map((m) => ({
      type: "support-message",
      message: presentSupportMessage(providerId, m),
    }));
    return {
      ndjson: toNdjson(lines),
      messages: messages.length,
      nextAfter: last && last.seq < log.lastSeq() ? last.seq : null,
    };
  }

  /** Copies message `seq N` to D1 again (a dead letter an admin retries); idempotent. */
  async retryD1Copy(position: string): Promise<Result<null>> {
    const providerId = this.providerId();
    const seq = /^seq (\d+)$/.exec(position)?.[1];
    const message = providerId && seq !== undefined ? this.conversation.log.get(Number(seq)) : null;
    if (!providerId || !message) return fail("not_found", `Nothing at ${position} in this thread`);
    const db = database(d1Shard(this.env, recordedShard(this.ctx.storage.kv)));
    return refusedByD1(() =>
      db.insert(d1Messages).values(toSupportRow(providerId, message)).onConflictDoNothing(),
    );
  }

  /** Erases what `userId` (the provider, or an admin) wrote in this thread; repeating it erases nothing twice. */
  async eraseAuthor(userId: string): Promise<number> {
    if (!this.storage.exists()) return 0;
    return transaction(this.ctx.storage, [this.storage, this.conversation], () =>
      this.conversation.log.eraseAuthor(userId, new Date().toISOString()),
    );
  }

  /** This thread's admin feed shard says (at its clock `at`) that an admin watches it again. */
  async feedWatched(at: number): Promise<void> {
    if (!this.storage.exists()) return;
    const feed = this.conversation.find((c) => c instanceof FeedConsumer);
    if (feed instanceof FeedConsumer) feed.watched(at);
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
