import { describeError } from "../log";
import { archiveExpired } from "./archive";

/** The cron's retention run: what it did, or why it stopped, in the log (counts only). */
export async function runRetention(env: Env): Promise<void> {
  try {
    const report = await archiveExpired(env);
    if (report.cutoff) {
      console.log(
        `retention: archived ${report.archived} messages older than ${report.cutoff} in ${report.objects} objects`,
      );
    }
  } catch (error) {
    console.error("retention: the run stopped; the next one resumes", describeError(error));
  }
}
