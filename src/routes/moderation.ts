import { recordAdminAccess } from "../db/admin-audit";
import { database } from "../db/client";
import { insertFlags, listFlags } from "../db/message-flags";
import { d1Shard, d1Shards } from "../db/shards";
import { ApiError, unwrap } from "../errors";
import { jsonTextResponse } from "../json-response";
import { describeError } from "../log";
import { Seq } from "../protocol";
import { bookingRoom } from "../rooms";
import { parseOr400 } from "../validation";
import { chatTokenHeader } from "./chat-token-header";
import type { RouteHandlers } from "./serve";

const seqParam = (value: string) => parseOr400(Seq, Number(/^\d{1,16}$/.test(value) ? value : Number.NaN));

/**
 * What parties and admins do about a chat beyond reading it: a party reports a message; an admin
 * hides one, freezes or unfreezes a chat, and lists what was flagged. Every admin action is on
 * the record before it happens (no record, no action).
 */
export const moderationHandlers = {
  reportMessage: async (c, { identity, params, body }) => {
    const seq = seqParam(params.seq);
    const chatToken = chatTokenHeader(c);
    const { reason } = await body();
    const { senderId, d1Shard: shard } = unwrap(
      await bookingRoom(c.env, params.id).reportable(identity, chatToken, seq),
    );
    const createdAt = new Date().toISOString();
    const target = JSON.stringify({ bookingId: params.id, seq, reason });
    await recordAdminAccess(c.env.DB, identity.userId, "message.report", target);
    const flag = {
      kind: "report" as const,
      bookingId: params.id,
      seq,
      senderId,
      reporterId: identity.userId,
      reason,
      createdAt,
    };
    try {
      // In the booking's shard, with its messages.
      await insertFlags(database(d1Shard(c.env, shard)), [flag]);
    } catch (error) {
      console.error("moderation: could not record a report", describeError(error));
      throw new ApiError("unavailable", "The report could not be recorded; try again shortly", {
        retryAfterMs: 5_000,
      });
    }
    return { body: { report: { bookingId: params.id, seq, reason, createdAt } } };
  },
  hideMessage: async (c, { identity, params, body }) => {
    const seq = seqParam(params.seq);
    const { reason } = await body();
    const target = JSON.stringify({ bookingId: params.id, seq, ...(reason ? { reason } : {}) });
    await recordAdminAccess(c.env.DB, identity.userId, "message.hide", target);
    return jsonTextResponse(unwrap(await bookingRoom(c.env, params.id).hide(identity, seq)));
  },
  freezeChat: async (c, { identity, params, body }) => {
    const { reason } = await body();
    await recordAdminAccess(
      c.env.DB,
      identity.userId,
      "chat.freeze",
      JSON.stringify({ bookingId: params.id, reason }),
    );
    return { body: { booking: unwrap(await bookingRoom(c.env, params.id).freeze(identity, true)) } };
  },
  unfreezeChat: async (c, { identity, params, body }) => {
    const { reason } = await body();
    const target = JSON.stringify({ bookingId: params.id, reason });
    await recordAdminAccess(c.env.DB, identity.userId, "chat.unfreeze", target);
    return { body: { booking: unwrap(await bookingRoom(c.env, params.id).freeze(identity, false)) } };
  },
  adminFlags: async (c, { identity, query }) => {
    await recordAdminAccess(c.env.DB, identity.userId, "flags.read", JSON.stringify(query));
    return { body: await listFlags(d1Shards(c.env), query) };
  },
} satisfies Partial<RouteHandlers>;
