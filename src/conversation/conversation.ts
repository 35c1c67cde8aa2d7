import { eq } from "drizzle-orm";
import type { DeliveryItem } from "../delivery/items";
import { describeError } from "../log";
import type { Counters } from "../metering/meter";
import { flushDelayMs } from "./backoff";
import type { Consumer } from "./consumer";
import { ConsumerRunner } from "./consumer-runner";
import type { ConversationDatabase } from "./message-log";
import { MessageLog } from "./message-log";
import {
  type Position,
  readStoredPosition,
  START,
  type StoredPosition,
  type StoredPositions,
} from "./positions";
import { consumerPositions } from "./schema";

const POSITIONS_ROW = 1;
/** How much later than its jittered time a flush may run, so that writes in one burst share an alarm. */
const FLUSH_SLACK_MS = 1_000;

/** When the batched work (the D1 copy) runs: this long after the first write it waits for, or once this many writes wait. */
export type CopySchedule = { intervalMs: number; maxPending: number };

/**
 * What a booking room and a support thread share: the message log, and the consumers that follow
 * it (the D1 copy, inboxes, an admin feed shard), each with its own cursor, schedule and backoff.
 *
 * A message writes its row and nothing else. Consumers that push to other objects run right after
 * the write (or once per interval while busy), and only those that want it (an inbox with a
 * socket open, a watched feed shard). The D1 copy waits for the alarm, set by the first write
 * after a copy for `intervalMs` later (sooner after `maxPending` writes or a lifecycle change), so
 * a conversation at a person's pace pays one alarm per interval, not per message. The alarm also
 * records the positions that must outlive the object, in one row, when they moved; it is not set
 * again when nothing is pending, so an idle conversation costs nothing.
 */
export class Conversation {
  readonly log: MessageLog;
  private runners: ConsumerRunner[] | null = null;
  /** The runners were made by `created`, inside a transaction that may still roll back. */
  private freshRunners = false;
  /** The persisted positions as last stored (JSON), so the alarm writes them only when they moved. */
  private storedJson: string | undefined;
  /** When the alarm is set for; undefined until read after a wake. */
  private alarmAt: number | null | undefined;
  private alarmUpdate: Promise<void> = Promise.resolve();
  /** Writes since the last alarm ran, for the copy's `maxPending`. */
  private writesSinceAlarm = 0;

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly db: ConversationDatabase,
    private readonly counters: Counters,
    /** This conversation's consumers; called once the conversation exists. */
    private readonly consumers: () => Consumer[],
    private readonly schedule: () => CopySchedule,
  ) {
    this.log = new MessageLog(db);
  }

  /**
   * Call when an object that holds a conversation wakes: its consumers take their places now,
   * before any write, so that those that start at the end (a live view) start before it.
   */
  woke(): void {
    this.currentRunners();
  }

  /** Call inside the transaction that creates the conversation: every consumer starts at the start. */
  created(): void {
    const start: StoredPosition = { at: START, failures: 0, retryAt: null };
    this.runners = this.consumers().map((consumer) => this.runnerFor(consumer, start));
    this.freshRunners = true;
    this.writePositions(this.persisted(this.runners));
  }

  /**
   * Call after every committed write. Pushing consumers start now (or at the end of their
   * interval); the alarm is set for the batched work. `urgent` skips the interval and resolves
   * once those deliveries are over (a booking change, whose HTTP caller waits for them).
   */
  async afterWrite({ urgent = false } = {}): Promise<void> {
    this.freshRunners = false;
    const runners = this.currentRunners();
    const pushing = runners.filter((r) => !r.consumer.batched);
    const runs = pushing.map((r) => r.kick({ urgent }));
    const awaited = runs.filter((_, i) => !pushing[i]?.consumer.background);
    this.writesSinceAlarm++;
    if (runners.some((r) => r.consumer.batched && r.behind())) {
      const now = Date.now();
      const { intervalMs, maxPending } = this.schedule();
      if (urgent) await this.alarmBy(now + flushDelayMs(), FLUSH_SLACK_MS);
      else if (this.writesSinceAlarm >= maxPending) await this.alarmBy(now, FLUSH_SLACK_MS);
      // An alarm already due within the spread serves this write too: one alarm set per interval.
      else await this.alarmBy(now + spread(intervalMs), intervalMs / 2 + FLUSH_SLACK_MS);
    }
    const wake = this.wakeAt(runners);
    if (wake !== null) await this.alarmBy(wake, FLUSH_SLACK_MS);
    if (urgent) await Promise.all(awaited);
  }

  /** The alarm: every consumer that is behind and not backing off runs; the positions that must outlive the object are recorded. */
  async alarm(): Promise<void> {
    this.counters.alarmsRun++;
    this.alarmAt = null;
    this.writesSinceAlarm = 0;
    try {
      const runners = this.currentRunners();
      const now = Date.now();
      await Promise.all(runners.filter((r) => !r.waiting(now)).map((r) => r.kick({ urgent: true, now })));
      this.recordPositions(runners);
      const next = this.nextAlarm(runners, Date.now());
      if (next !== null) await this.alarmBy(next, FLUSH_SLACK_MS);
    } catch (error) {
      console.error("conversation: alarm failed", describeError(error));
      await this.alarmBy(Date.now() + flushDelayMs());
    }
  }

  /**
   * The object has work of its own at `at` (expiring uploads): the alarm fires by then. The alarm
   * is this conversation's, so an object sets it only through here.
   */
  wakeBy(at: number): Promise<void> {
    return this.alarmBy(at);
  }

  /** The first of its consumers that `match` picks. */
  find(match: (consumer: Consumer) => boolean): Consumer | undefined {
    return this.currentRunners().find((r) => match(r.consumer))?.consumer;
  }

  /** The named consumer's next batch, for the caller to hand over itself (see ConsumerRunner.handOver). */
  handOver(name: string): DeliveryItem[] | null {
    return (
      this.currentRunners()
        .find((r) => r.consumer.name === name)
        ?.handOver() ?? null
    );
  }

  /** Runs one consumer now if it is behind (it just said it wants more). */
  async kick(name: string): Promise<void> {
    await this.currentRunners()
      .find((r) => r.consumer.name === name)
      ?.kick({ urgent: true });
  }

  /** Drops in-memory copies after a rolled-back transaction. */
  forget(): void {
    this.log.forget();
    if (this.freshRunners) this.runners = null;
    this.freshRunners = false;
  }

  /** Each consumer's position, for tests and diagnostics. */
  positions(): StoredPositions {
    return Object.fromEntries(this.currentRunners().map((r) => [r.consumer.name, r.stored()]));
  }

  /**
   * The consumers changed (a listener came or went): runners of those still there keep their
   * place; a new one starts at `startAt` (by name), else at the end of the log. The places are
   * stored at once, so that a restart before the next alarm does not start a new consumer past
   * messages it never had. New consumers behind the end are kicked.
   */
  refreshConsumers(startAt: Record<string, Position> = {}): void {
    const current = new Map(this.currentRunners().map((r) => [r.consumer.name, r]));
    const seeds: StoredPositions = Object.fromEntries(
      Object.entries(startAt).map(([name, at]) => [name, { at, failures: 0, retryAt: null }]),
    );
    this.runners = this.consumers().map(
      (consumer) => current.get(consumer.name) ?? this.runnerFor(consumer, seeds[consumer.name]),
    );
    this.recordPositions(this.runners);
    for (const runner of this.runners)
      if (!current.has(runner.consumer.name)) void runner.kick({ urgent: true });
  }

  private currentRunners(): ConsumerRunner[] {
    if (this.runners) return this.runners;
    const stored = this.readPositions();
    this.runners = this.consumers().map((consumer) => this.runnerFor(consumer, stored[consumer.name]));
    return this.runners;
  }

  private runnerFor(consumer: Consumer, stored: StoredPosition | undefined): ConsumerRunner {
    // Unless it says otherwise, a consumer added later (a new feed shard, a listener) hears what happens from now on.
    const at: StoredPosition = consumer.restore
      ? consumer.restore(stored)
      : (stored ?? { at: consumer.head(), failures: 0, retryAt: null });
    const onFailure = (runner: ConsumerRunner) => {
      if (runner.retryAt !== null) void this.alarmBy(runner.retryAt);
    };
    return new ConsumerRunner(consumer, at, onFailure, consumer.intervalMs);
  }

  /** The earliest time a consumer that holds back wants to run. */
  private wakeAt(runners: ConsumerRunner[]): number | null {
    let next: number | null = null;
    for (const runner of runners) {
      const due = runner.consumer.wakeAt?.() ?? null;
      if (due !== null && (next === null || due < next)) next = due;
    }
    return next;
  }

  private nextAlarm(runners: ConsumerRunner[], now: number): number | null {
    let next: number | null = this.wakeAt(runners);
    for (const runner of runners) {
      const due = runner.waiting(now) ? runner.retryAt : runner.behind() ? now + flushDelayMs() : null;
      if (due !== null && (next === null || due < next)) next = due;
    }
    return next;
  }

  private recordPositions(runners: ConsumerRunner[]): void {
    const positions = this.persisted(runners);
    if (JSON.stringify(positions) !== this.storedJson) this.writePositions(positions);
  }

  /** The positions that must outlive the object, by consumer name. */
  private persisted(runners: ConsumerRunner[]): StoredPositions {
    const positions: StoredPositions = {};
    for (const runner of runners) {
      const { consumer } = runner;
      const stored = runner.stored();
      const kept = consumer.persisted ? consumer.persisted(stored) : stored;
      if (kept) positions[consumer.name] = kept;
    }
    return positions;
  }

  private readPositions(): StoredPositions {
    const row = this.db.select().from(consumerPositions).where(eq(consumerPositions.id, POSITIONS_ROW)).get();
    this.storedJson = row ? JSON.stringify(row.positions) : undefined;
    const positions: StoredPositions = {};
    for (const [name, value] of Object.entries(row?.positions ?? {})) {
      const position = readStoredPosition(name, value);
      if (position) positions[name] = position;
    }
    return positions;
  }

  private writePositions(positions: StoredPositions): void {
    this.db
      .insert(consumerPositions)
      .values({ id: POSITIONS_ROW, positions })
      .onConflictDoUpdate({ target: consumerPositions.id, set: { positions } })
      .run();
    this.storedJson = JSON.stringify(positions);
  }

  /**
   * Sets the alarm to `at` unless one is already due by `at + slack`: each set is a billed write,
   * and a flush a second later than its jittered time loses nothing.
   */
  private alarmBy(at: number, slack = 0): Promise<void> {
    this.alarmUpdate = this.alarmUpdate
      .then(async () => {
        if (this.alarmAt === undefined) this.alarmAt = await this.ctx.storage.getAlarm();
        if (this.alarmAt !== null && this.alarmAt <= at + slack) return;
        this.alarmAt = at;
        this.counters.alarmsSet++;
        await this.ctx.storage.setAlarm(at);
      })
      .catch((error) => console.error("conversation: could not set the alarm", describeError(error)));
    return this.alarmUpdate;
  }
}

/** A delay spread over ±25%, so that conversations that got busy together do not all flush together. */
function spread(ms: number, random: () => number = Math.random): number {
  return Math.round(ms * (0.75 + random() / 2));
}
