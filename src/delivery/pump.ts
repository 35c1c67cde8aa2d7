/**
 * Runs a flush at most once at a time; a kick during a flush runs one more afterwards, so
 * everything enqueued before a kick is flushed by the time the kick's promise settles.
 */
export class Pump {
  private running: Promise<void> | null = null;
  private again = false;

  constructor(
    private readonly flushOnce: () => Promise<{ ok: boolean; more: boolean }>,
    private readonly onFailure: () => Promise<void>,
  ) {}

  kick(): Promise<void> {
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
      this.again = false;
      const result = await this.flushOnce();
      if (!result.ok) return this.onFailure();
      if (!result.more && !this.again) return;
    }
  }
}
