import type { DeliveryItem } from "../delivery/items";
import { describeError } from "../log";
import { retryDelayMs } from "./backoff";
import { type Consumer, isBehind } from "./consumer";
import { later, type Position, type StoredPosition } from "./positions";

/**
 * How often a busy conversation calls one receiver: each call costs a request and the receiver's
 * work, so what arrives within this interval shares one call. A quiet conversation calls at once.
 */
export const DELIVERY_INTERVAL_MS = 500;

/**
 * A run that has not finished by then counts as failed the next time the runner is kicked (a
 * write, the alarm), so a hung receiver never holds up the others. Checked then rather than
 * with a timer per delivery: a pending timer would also keep the object from hibernating.
 */
export const DELIVERY_TIMEOUT_MS = 10_000;

/**
 * Runs one consumer: one batch at a time, in order; right away after a quiet spell, otherwise at
 * most once per interval; after a failure only when its backoff has passed (the alarm retries it).
 * A consumer's failure never touches another consumer.
 */
export class ConsumerRunner {
  position: Position;
  failures: number;
  retryAt: number | null;
  private running: Promise<void> | null = null;
  /** Bumped when a hung run is given up, so that its late result is ignored. */
  private generation = 0;
  private lastStartAt = Number.NEGATIVE_INFINITY;
  private urgent = false;
  private endWait: (() => void) | null = null;

  constructor(
    readonly consumer: Consumer,
    stored: StoredPosition,
    private readonly onFailure: (runner: ConsumerRunner) => void,
    private readonly intervalMs = DELIVERY_INTERVAL_MS,
  ) {
    this.position = stored.at;
    this.failures = stored.failures;
    this.retryAt = stored.retryAt;
  }

  behind(): boolean {
    return isBehind(this.consumer, this.position);
  }

  /** Whether it is waiting out a backoff at `now`. */
  waiting(now: number): boolean {
    return this.retryAt !== null && this.retryAt > now;
  }

  stored(): StoredPosition {
    return { at: this.position, failures: this.failures, retryAt: this.retryAt };
  }

  /**
   * Runs (or, if running, runs again after) the consumer until it has caught up. `urgent` skips
   * the interval. Resolves when those runs are over; never rejects. A consumer in backoff is left
   * alone: its retry belongs to the alarm, so a broken receiver is not hammered by every write.
   */
  kick({ urgent = false, now = Date.now() } = {}): Promise<void> {
    if (this.running && now - this.lastStartAt > DELIVERY_TIMEOUT_MS) this.giveUp(now);
    if (this.waiting(now)) return this.running ?? Promise.resolve();
    if (urgent) {
      this.urgent = true;
      this.endWait?.();
    }
    if (this.running) return this.running;
    if (!this.behind()) return Promise.resolve();
    const generation = this.generation;
    const running = this.loop(generation).finally(() => {
      if (this.generation === generation) this.running = null;
    });
    this.running = running;
    return running;
  }

  /**
   * Its next batch, built now and counted as delivered, for the caller to hand over: only when
   * nothing is in flight or waiting, so what is handed over comes next in order. Null otherwise.
   */
  handOver(now = Date.now()): DeliveryItem[] | null {
    if (this.running || this.waiting(now) || !this.behind() || !this.consumer.batchNow) return null;
    const { items, through } = this.consumer.batchNow(this.position);
    this.position = later(this.position, through);
    return items;
  }

  private async loop(generation: number): Promise<void> {
    for (;;) {
      const wait = this.urgent ? 0 : this.lastStartAt + this.intervalMs - Date.now();
      if (wait > 0) await this.sleep(wait);
      if (this.generation !== generation) return;
      this.urgent = false;
      this.lastStartAt = Date.now();
      try {
        const reached = await this.consumer.run(this.position);
        if (this.generation !== generation) return;
        this.position = later(this.position, reached);
        this.failures = 0;
        this.retryAt = null;
      } catch (error) {
        if (this.generation !== generation) return;
        this.failed(error);
        return;
      }
      if (!this.behind()) return;
    }
  }

  /** A run that never finished: counted as a failure; whatever it does later is ignored. */
  private giveUp(now: number): void {
    this.generation++;
    this.running = null;
    this.endWait?.();
    this.failed(new Error(`no answer within ${DELIVERY_TIMEOUT_MS} ms`), now);
  }

  private failed(error: unknown, now = Date.now()): void {
    this.failures++;
    this.retryAt = now + retryDelayMs(this.failures);
    console.error(`${this.consumer.name}: delivery failed (attempt ${this.failures})`, describeError(error));
    this.onFailure(this);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.endWait = null;
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.endWait = wake;
    });
  }
}
