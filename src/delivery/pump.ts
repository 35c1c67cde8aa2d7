/**
 * Runs a flush at most once at a time; a kick during a flush runs one more afterwards, so
 * everything enqueued before a kick is flushed by the time the kick's promise settles.
 *
 * Flushes start at most once per `minIntervalMs`. The first kick after a quiet spell flushes at
 * once; kicks that follow within the interval wait for its end and share one flush. A busy
 * conversation so sends one call per target per interval instead of one per event, and a quiet
 * one adds no delay at all. An urgent kick (a booking changed, which is rare and which an HTTP
 * caller waits for) cuts the wait short.
 */
export class Pump {
  private running: Promise<void> | null = null;
  private again = false;
  private lastStart = Number.NEGATIVE_INFINITY;
  private urgent = false;
  private endWait: (() => void) | null = null;

  constructor(
    private readonly flushOnce: () => Promise<{ ok: boolean; more: boolean }>,
    private readonly onFailure: () => Promise<void>,
    private readonly minIntervalMs = 0,
  ) {}

  kick({ urgent = false } = {}): Promise<void> {
    if (urgent) {
      this.urgent = true;
      this.endWait?.();
    }
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.loop().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async loop(): Promise<void> {
    for (;;) {
      const wait = this.urgent ? 0 : this.lastStart + this.minIntervalMs - Date.now();
      if (wait > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, wait);
          this.endWait = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.endWait = null;
      }
      this.urgent = false;
      this.again = false;
      this.lastStart = Date.now();
      const result = await this.flushOnce();
      if (!result.ok) return this.onFailure();
      if (!result.more && !this.again) return;
    }
  }
}
