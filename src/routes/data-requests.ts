import { getErasure, insertErasure, unfinishedErasure } from "../data-requests/erasure-records";
import { exportUser } from "../data-requests/export";
import { recordAdminAccess } from "../db/admin-audit";
import { ApiError } from "../errors";
import { objects } from "../placement/namespaces";
import { listArchives } from "../retention/list-archives";
import type { RouteHandlers } from "./serve";

/**
 * Data at scale and data subjects' rights: the R2 archives, a user's export and erasure. Each is
 * on the audit trail before it happens.
 */
export const dataRequestHandlers = {
  adminArchives: async (c, { identity, query }) => {
    await recordAdminAccess(c.env.DB, identity.userId, "archives.list", JSON.stringify(query));
    return { body: await listArchives(c.env.ARCHIVES, query) };
  },
  exportUser: async (c, { identity, params }) => {
    await recordAdminAccess(c.env.DB, identity.userId, "user.export", params.userId);
    return new Response(exportUser(c.env, params.userId), {
      headers: {
        "Content-Type": "application/x-ndjson; charset=utf-8",
        "Content-Disposition": `attachment; filename="spana-chat-export-${params.userId}.ndjson"`,
        "Cache-Control": "no-store",
      },
    });
  },
  eraseUser: async (c, { identity, params, body }) => {
    const { reason } = await body();
    const { userId } = params;
    await recordAdminAccess(c.env.DB, identity.userId, "user.erase", JSON.stringify({ userId, reason }));
    // One erasure at a time per user: asking again while one runs answers that one.
    const erasure =
      (await unfinishedErasure(c.env.DB, userId)) ??
      (await insertErasure(c.env.DB, { id: crypto.randomUUID(), userId, adminId: identity.userId, reason }));
    const jobs = objects(c.env, "USER_ERASURE");
    const job = jobs.get(jobs.idFromName(erasure.id));
    await job.start(erasure.id, userId);
    return { body: { erasure: { id: erasure.id, status: erasure.status } }, status: 202 };
  },
  erasureStatus: async (c, { identity, params }) => {
    await recordAdminAccess(c.env.DB, identity.userId, "erasure.read", params.id);
    const erasure = await getErasure(c.env.DB, params.id);
    if (!erasure) throw new ApiError("not_found", "No such erasure");
    return { body: { erasure } };
  },
} satisfies Partial<RouteHandlers>;
