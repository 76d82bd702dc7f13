/**
 * A background loop for the leader's periodic work (pulls, deliveries): runs `work` now and then
 * every interval after the previous run ends, never two at once; a failed run is logged and the
 * loop goes on. `runNow()` during a run queues one more after it instead of starting a second.
 */
import type { Logger } from 'pino';

/**
 * Lets timers and I/O run before the next part of long work. On SQLite every query is synchronous
 * (better-sqlite3), so a loop of queries holds the event loop until it ends: requests wait, and a
 * server starting beside it misses Fastify's plugin timeout. On PostgreSQL every query yields anyway.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}

export class PeriodicTask<T> {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<T | null> | undefined;
  /** The one run queued behind the running one. */
  private next: Promise<T | null> | undefined;
  private started = false;

  constructor(
    private readonly work: () => Promise<T | null>,
    private readonly options: { readonly intervalMs: number; readonly log: Logger; readonly failure: string },
  ) {}

  start(): void {
    if (this.started) return;
    this.started = true;
    this.schedule(0);
  }

  /** Stops the loop and waits for a run in flight. */
  async stop(): Promise<void> {
    this.started = false;
    clearTimeout(this.timer);
    await (this.next ?? this.running);
  }

  /**
   * One run. Never rejects: a failure is logged and answered with null. A call while a run is in
   * flight waits for it and then runs once more (shared by every call made meanwhile), so the
   * answer always covers what was stored before the call.
   */
  runNow(): Promise<T | null> {
    if (this.running) {
      this.next ??= this.running.then(() => {
        this.next = undefined;
        return this.runNow();
      });
      return this.next;
    }
    this.running = this.work()
      .catch((error: unknown) => {
        this.options.log.error({ err: error }, this.options.failure);
        return null;
      })
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    if (!this.started) return;
    this.timer = setTimeout(() => {
      void this.runNow().finally(() => this.schedule(this.options.intervalMs));
    }, delayMs);
    this.timer.unref();
  }
}
