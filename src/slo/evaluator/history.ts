/**
 * History backfill, the service side: fills the steps of `slo_history` that have no point although
 * `sli_minutes` has data for them — minutes ingested or imported before the evaluator ran (the
 * demo's `--seed-days`), a target added to the specs over old data, steps a leader missed — by
 * replaying the stored minutes through a `TargetReplay`. Runs on the leader after the live write,
 * under the tick's backfill time budget, one target at a time; each chunk's points are written in
 * their own transaction and a stored point is never replaced, so it can stop anywhere and the
 * next check resumes at the first step still missing. See docs/evaluation.md.
 */
import type { Logger } from 'pino';
import { DAY_MS } from '../../platform/dates.js';
import type { Db } from '../../platform/db/index.js';
import { yieldToEventLoop } from '../../platform/periodic.js';
import type { EvaluationTarget } from '../evaluation.js';
import { earliestMinuteMs, readMinutes } from '../minutes.js';
import { historyRange, historySpanMs, missingSteps, TargetReplay } from './replay.js';
import { partKey, type TargetStatus } from './state.js';
import { countHistory, historyRow, storedHistorySteps, writeTick } from './store.js';

/** After a failed check or chunk, a target waits 2, 4, … up to this many ticks before the next try. */
const MAX_RETRY_TICKS = 64;

export interface HistoryBackfillOptions {
  readonly stepMs: number;
  /** Reach back at least this many days, or a target's period when longer (`historySpanMs`). */
  readonly days: number;
  /** Stored minutes replayed per read-compute-write round (default: one day). */
  readonly chunkMs?: number | undefined;
}

/** What the history backfill did in one tick, for the tick's log line. */
export interface HistoryRunSummary {
  /** Targets whose stored history was checked. */
  readonly checked: number;
  /** Points written (replayed steps). */
  readonly points: number;
  /** Stored minutes read and replayed. */
  readonly rows: number;
}

interface Tracked {
  target: EvaluationTarget;
  readonly signature: string;
  /**
   * The step at which this leadership first had a live status for the target: the live path
   * writes the later steps, so rows older than this may be history the backfill has not seen.
   */
  readonly liveFromMs: number;
  /** Waiting for a check of its stored history. */
  queued: boolean;
  /** Not checked or replayed before this tick: its old data is still arriving, or it just failed. */
  notBeforeTick: number;
  failures: number;
}

interface Job {
  readonly id: string;
  readonly signature: string;
  readonly replay: TargetReplay;
  readonly steps: number;
  readonly startedMs: number;
  points: number;
  rows: number;
}

/** The targets' history checks and the one replay in flight, for one leadership. */
export class HistoryBackfill {
  private readonly tracked = new Map<string, Tracked>();
  private job: Job | null = null;
  private tickNo = 0;
  private readonly chunkMs: number;

  constructor(
    private readonly deps: { readonly db: Db; readonly log: Logger },
    private readonly options: HistoryBackfillOptions,
  ) {
    this.chunkMs = options.chunkMs ?? DAY_MS;
    if (!(this.chunkMs >= 60_000)) throw new RangeError('chunkMs must be at least a minute');
  }

  /**
   * Once per tick, after the live write. A target evaluated for the first time in this
   * leadership (or since its parts changed) is queued for a check; targets that left the specs, or
   * whose parts changed, are forgotten (and their replay dropped) until evaluated again. `oldestChanges` holds, per storage key, the oldest minute among the rows the change
   * feed read that changed since the previous tick: a row older than a target's first live step
   * queues it again (data imported while the server runs, the demo's seed) and holds it back
   * until a tick brings no such rows, so a backfill of data still being ingested is not replayed
   * half-way (its points would be written once and kept).
   */
  update(
    statuses: readonly TargetStatus[],
    targets: readonly EvaluationTarget[],
    currentStepMs: number,
    oldestChanges: ReadonlyMap<string, number>,
  ): void {
    this.tickNo++;
    const signatures = new Map(targets.map((t) => [t.id, signatureOf(t)]));
    for (const [id, t] of this.tracked) if (signatures.get(id) !== t.signature) this.tracked.delete(id);
    for (const { target } of statuses) {
      const signature = signatures.get(target.id) ?? signatureOf(target);
      const known = this.tracked.get(target.id);
      if (known?.signature === signature) {
        known.target = target;
        continue;
      }
      this.tracked.set(target.id, {
        target,
        signature,
        liveFromMs: currentStepMs,
        queued: true,
        notBeforeTick: 0,
        failures: 0,
      });
    }
    if (this.job && this.tracked.get(this.job.id)?.signature !== this.job.signature) {
      this.deps.log.info({ slo: this.job.id }, 'history backfill: target changed, replay dropped');
      this.job = null;
    }
    if (oldestChanges.size === 0) return;
    for (const t of this.tracked.values()) {
      for (const part of t.target.parts) {
        const oldestMs = oldestChanges.get(part.storageKey);
        if (oldestMs !== undefined && oldestMs < t.liveFromMs) {
          t.queued = true;
          t.notBeforeTick = Math.max(t.notBeforeTick, this.tickNo + 1);
          break;
        }
      }
    }
  }

  /** True when work could run now (not only targets held back), so the next tick should run at once. */
  get runnable(): boolean {
    if (this.job) return this.ready(this.tracked.get(this.job.id));
    for (const t of this.tracked.values()) if (t.queued && this.ready(t)) return true;
    return false;
  }

  /** Targets waiting for a check or a replay. */
  get waiting(): number {
    let n = this.job ? 1 : 0;
    for (const t of this.tracked.values()) if (t.queued && t.target.id !== this.job?.id) n++;
    return n;
  }

  /**
   * Checks queued targets and replays, chunk by chunk, while `keepGoing()` (the tick's time
   * budget; at least one check or chunk runs). `canWrite()` is asked before every write: false
   * (the lead is lost) stops the run. Never throws: a failure is logged and the target retried
   * on a later tick.
   */
  async run(
    currentStepMs: number,
    keepGoing: () => boolean,
    canWrite: () => boolean,
  ): Promise<HistoryRunSummary> {
    let checked = 0;
    let points = 0;
    let rows = 0;
    do {
      // Between two chunks (a day of minutes each), timers and requests run: see yieldToEventLoop.
      await yieldToEventLoop();
      let current: Tracked | undefined;
      try {
        if (!this.job) {
          current = [...this.tracked.values()].find((t) => t.queued && this.ready(t));
          if (!current) break;
          current.queued = false;
          checked++;
          this.job = await this.check(current, currentStepMs);
          if (!this.job) {
            current.failures = 0;
            continue;
          }
        }
        const job = this.job;
        current = this.tracked.get(job.id);
        // Its data is still arriving: wait, so the chunks ahead read it.
        if (!this.ready(current)) break;
        const written = await this.runChunk(job, canWrite);
        if (written === null) break;
        points += written.points;
        rows += written.rows;
        if (job.replay.done) {
          this.job = null;
          if (current) current.failures = 0;
          this.deps.log.info(
            {
              slo: job.id,
              points: job.points,
              rows: job.rows,
              tookMs: Math.round(performance.now() - job.startedMs),
            },
            'history backfill: done',
          );
        }
      } catch (error) {
        const id = this.job?.id ?? current?.target.id;
        this.job = null;
        const t = id === undefined ? undefined : this.tracked.get(id);
        if (t) {
          t.queued = true;
          t.failures++;
          t.notBeforeTick = this.tickNo + Math.min(2 ** t.failures, MAX_RETRY_TICKS);
        }
        this.deps.log.warn({ err: error, slo: id }, 'history backfill failed; retrying on a later tick');
        break;
      }
    } while (keepGoing());
    return { checked, points, rows };
  }

  private ready(t: Tracked | undefined): boolean {
    return t !== undefined && t.notBeforeTick <= this.tickNo;
  }

  /** A replay of the target's missing steps, or null when its history has every step that has data. */
  private async check(t: Tracked, currentStepMs: number): Promise<Job | null> {
    const { db, log } = this.deps;
    const { stepMs } = this.options;
    const { target } = t;
    const earliestMs = await earliestMinuteMs(
      db,
      target.parts.map((p) => p.storageKey),
    );
    const range = historyRange(earliestMs, currentStepMs, stepMs, historySpanMs(target, this.options.days));
    if (!range) return null;
    const expected = (range.toMs - range.fromMs) / stepMs + 1;
    if ((await countHistory(db, target.id, range.fromMs, range.toMs, stepMs)) >= expected) return null;
    const stored = await storedHistorySteps(db, target.id, range.fromMs, range.toMs);
    const steps = missingSteps(range.fromMs, range.toMs, stepMs, stored);
    if (steps.length === 0) return null;
    const replay = new TargetReplay(target, steps, earliestMs);
    log.info(
      {
        slo: target.id,
        steps: steps.length,
        from: new Date(steps[0]!).toISOString(),
        to: new Date(replay.untilMs).toISOString(),
        replayFrom: new Date(replay.positionMs).toISOString(),
      },
      'history backfill: replaying stored minutes',
    );
    return {
      id: target.id,
      signature: t.signature,
      replay,
      steps: steps.length,
      startedMs: performance.now(),
      points: 0,
      rows: 0,
    };
  }

  /** Reads, replays and writes one chunk; null when the lead was lost (nothing written). */
  private async runChunk(
    job: Job,
    canWrite: () => boolean,
  ): Promise<{ points: number; rows: number } | null> {
    const { db, log } = this.deps;
    const { replay } = job;
    const fromMs = replay.positionMs;
    const toMs = Math.min(fromMs + this.chunkMs, replay.untilMs);
    const rows = [];
    for (const storageKey of replay.storageKeys())
      rows.push(...(await readMinutes(db, storageKey, fromMs, toMs)));
    const errorsBefore = replay.errors.length;
    const points = replay.advance(toMs, rows);
    for (const { atMs, error } of replay.errors.slice(errorsBefore, errorsBefore + 1))
      log.warn({ slo: job.id, at: new Date(atMs).toISOString() }, `history point not computed: ${error}`);
    if (!canWrite()) {
      this.job = null;
      return null;
    }
    if (points.length) {
      await writeTick(db, {
        statuses: [],
        history: points.map((p) => historyRow(job.id, p.atMs, p.status)),
      });
    }
    job.points += points.length;
    job.rows += rows.length;
    return { points: points.length, rows: rows.length };
  }
}

/** What a target's history depends on: its parts (stream, objective, weight) and how they combine. */
function signatureOf(target: EvaluationTarget): string {
  return JSON.stringify([
    Boolean(target.slo.composite),
    target.parts.map((p) => [partKey(p), p.weight, p.target]),
  ]);
}
