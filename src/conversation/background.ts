import type { NotifyOutbox } from "../delivery/notify-outbox";
import { Pump } from "../delivery/pump";
import { describeError } from "../log";
import { backoffMs, type D1Outbox, flushDelayMs } from "./d1-outbox";

export const RETRY_STATE_SCHEMA = [
  `CREATE TABLE retry_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    failures INTEGER NOT NULL DEFAULT 0,
    last_error_at TEXT
  )`,
  "INSERT INTO retry_state (id) VALUES (1)",
];

/**
 * How often a busy conversation delivers to inboxes and the admin feed: each delivery is a call
 * to another object and a write there, as costly as relaying a message, so events that arrive
 * within this interval share one call per target. A quiet conversation delivers at once.
 */
export const DELIVERY_INTERVAL_MS = 500;

/**
 * The work a conversation does after a write: deliver events to inboxes and the admin feed (at
 * once when it was quiet, at most every DELIVERY_INTERVAL_MS when busy), and copy messages to D1
 * shortly after, in batches. Both outboxes are durable; when either fails, an alarm retries with
 * backoff until it succeeds, across evictions and restarts.
 */
export class Background {
  private readonly notifyPump: Pump;
  private d1FlushScheduled = false;
  private failureCount: number | undefined;

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly name: string,
    private readonly d1: () => D1Outbox | null,
    private readonly notify: () => NotifyOutbox | null,
  ) {
    this.notifyPump = new Pump(
      () => this.notify()?.flush() ?? Promise.resolve({ ok: true, more: false }),
      () => this.retryLater(new Error("delivery failed")),
      DELIVERY_INTERVAL_MS,
    );
  }

  /**
   * Call after every committed write. Resolves once pending events have been handed on, or, with
   * `awaitDelivery: false`, once the D1 copy is scheduled: delivery then goes on in the background
   * (the outbox is durable, and the D1 alarm a message schedules delivers it if the object dies first).
   * `urgent` delivers now even if the conversation delivered less than an interval ago.
   */
  async afterWrite({ awaitDelivery = true, urgent = false } = {}): Promise<void> {
    await this.scheduleD1Flush();
    if (!this.notify()?.hasPending()) return;
    const delivered = this.notifyPump.kick({ urgent });
    if (awaitDelivery) return delivered;
    delivered.catch((error) => console.error(`${this.name}: delivery failed`, describeError(error)));
  }

  /** The alarm handler: flush everything; never throws, so retries never give up. */
  async alarm(): Promise<void> {
    this.d1FlushScheduled = false;
    const failures = this.failures();
    try {
      const outbox = this.d1();
      if (outbox) {
        let result = await outbox.flush();
        while (result.more && result.written > 0) result = await outbox.flush();
      }
    } catch (error) {
      return this.retryLater(error);
    }
    await this.notifyPump.kick();
    this.notify()?.prune();
    // A delivery failure during the kick has already scheduled its own retry.
    if (this.failures() > failures) return;
    if (failures > 0) {
      this.ctx.storage.sql.exec("UPDATE retry_state SET failures = 0");
      this.failureCount = 0;
    }
    if (this.d1()?.hasPending() || this.notify()?.hasPending())
      await this.alarmBy(Date.now() + flushDelayMs());
  }

  /** Consecutive failures, as stored; read on every write, so kept in memory once read. */
  private failures(): number {
    this.failureCount ??= this.ctx.storage.sql
      .exec<{ failures: number }>("SELECT failures FROM retry_state")
      .one().failures;
    return this.failureCount;
  }

  private async scheduleD1Flush(): Promise<void> {
    // While failing, the backoff alarm is already set; new writes must not hammer a broken D1.
    if (this.d1FlushScheduled || !this.d1()?.hasPending() || this.failures() > 0) return;
    this.d1FlushScheduled = true;
    await this.alarmBy(Date.now() + flushDelayMs());
  }

  private async retryLater(error: unknown): Promise<void> {
    const failures = this.ctx.storage.sql
      .exec<{ failures: number }>(
        "UPDATE retry_state SET failures = failures + 1, last_error_at = ? RETURNING failures",
        new Date().toISOString(),
      )
      .one().failures;
    this.failureCount = failures;
    console.error(`${this.name}: background write failed (attempt ${failures})`, describeError(error));
    await this.alarmBy(Date.now() + backoffMs(failures));
  }

  /** Sets the alarm to `at` unless one is already due sooner. */
  private async alarmBy(at: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }
}
