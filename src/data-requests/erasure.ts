import { DurableObject } from "cloudflare:workers";
import { z } from "zod";
import { d1Shards } from "../db/shards";
import { inboxStub } from "../delivery/targets";
import { describeError } from "../log";
import { ErasureProgress, type UserRole } from "../protocol";
import { eraseFromArchives } from "../retention/erase-archived";
import { bookingRoom } from "../rooms";
import { supportThread } from "../support/thread-stub";
import { conversationsOf } from "./conversations";
import { eraseFromD1 } from "./erase-d1";
import { NO_PROGRESS, updateErasure } from "./erasure-records";

/** A step that failed (D1 or R2 unavailable) is tried again this much later, for as long as it takes. */
const RETRY_MS = 30_000;
const ROLES: UserRole[] = ["customer", "provider", "admin"];

/** The steps, in order; each is idempotent, so redoing the one a crash interrupted is safe. */
const Step = z.enum(["discover", "conversations", "d1", "archives", "inboxes", "done"]);

const Job = z.object({
  id: z.string(),
  userId: z.string(),
  erasedAt: z.string(),
  step: Step,
  bookings: z.array(z.string()),
  supportThreads: z.array(z.string()),
  /** How many conversations (bookings, then support threads) are done. */
  next: z.number().int(),
  progress: ErasureProgress,
});
type Job = z.infer<typeof Job>;

const JOB_KEY = "job";

/**
 * One erasure of one user's data (POST /admin/users/:userId/erase), carried to its end by this
 * object's alarm: find every conversation that may hold what they wrote, erase it in each room
 * and support thread (content, metadata, files in R2), in every D1 shard, in the R2 archives, then
 * delete their inboxes. Where it got is stored after every unit of work, and a failed step is
 * retried, so a crash or an outage only delays it.
 */
export class UserErasure extends DurableObject<Env> {
  /** Starts the erasure (once: a repeated start changes nothing). */
  async start(id: string, userId: string): Promise<void> {
    if (this.job()) return;
    this.save({
      id,
      userId,
      erasedAt: new Date().toISOString(),
      step: "discover",
      bookings: [],
      supportThreads: [],
      next: 0,
      progress: NO_PROGRESS,
    });
    await this.ctx.storage.setAlarm(Date.now());
  }

  override async alarm(): Promise<void> {
    const job = this.job();
    if (!job || job.step === "done") return;
    try {
      await updateErasure(this.env.DB, job.id, "running", job.progress);
      await this.run(job);
      await updateErasure(this.env.DB, job.id, "done", job.progress);
    } catch (error) {
      console.error(`erasure ${job.id}: step ${job.step} failed, retrying`, describeError(error));
      await this.ctx.storage.setAlarm(Date.now() + RETRY_MS);
      // What got done before the failure, for GET /admin/erasures/:id (D1 itself may be what failed).
      await updateErasure(this.env.DB, job.id, "running", job.progress).catch(() => undefined);
    }
  }

  /** Runs the steps from where `job` got, storing it after every unit of work. */
  private async run(job: Job): Promise<void> {
    const { env } = this;
    const advance = (step: Job["step"]) => {
      job.step = step;
      this.save(job);
    };
    if (job.step === "discover") {
      Object.assign(job, await conversationsOf(env, job.userId), { next: 0 });
      advance("conversations");
    }
    if (job.step === "conversations") {
      for (; job.next < job.bookings.length + job.supportThreads.length; job.next++, this.save(job)) {
        const bookingId = job.bookings[job.next];
        if (bookingId !== undefined) {
          const erased = await bookingRoom(env, bookingId).eraseAuthor(job.userId);
          job.progress.roomMessages += erased.messages;
          job.progress.files += erased.files;
        } else {
          const providerId = job.supportThreads[job.next - job.bookings.length] ?? "";
          job.progress.supportMessages += await supportThread(env, providerId).eraseAuthor(job.userId);
        }
        job.progress.conversations++;
      }
      advance("d1");
    }
    if (job.step === "d1") {
      for (const d1 of d1Shards(env))
        job.progress.d1Messages += await eraseFromD1(d1, job.userId, job.erasedAt);
      advance("archives");
    }
    if (job.step === "archives") {
      for (const d1 of d1Shards(env)) {
        const erased = await eraseFromArchives(d1, env.ARCHIVES, job.userId, job.erasedAt);
        job.progress.archiveObjects += erased.objects;
        job.progress.archivedMessages += erased.messages;
      }
      advance("inboxes");
    }
    if (job.step === "inboxes") {
      for (const role of ROLES) {
        if (await inboxStub(env, { userId: job.userId, role }).erase()) job.progress.inboxes++;
      }
      advance("done");
    }
  }

  private job(): Job | null {
    const parsed = Job.safeParse(this.ctx.storage.kv.get(JOB_KEY));
    return parsed.success ? parsed.data : null;
  }

  private save(job: Job): void {
    this.ctx.storage.kv.put(JOB_KEY, job);
  }
}
