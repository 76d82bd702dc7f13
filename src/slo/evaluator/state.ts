/**
 * The evaluator's pure core: one incremental engine per distinct (storage key, objective spec),
 * the evaluation targets that read them, and replace-semantics updates from re-read rows of
 * `sli_minutes`. No I/O and no clock: the service passes time in and does the reading and writing.
 */

import { DAY_MS } from '../../platform/dates.js';
import {
  type BudgetStatus,
  calendarPeriodAt,
  combineComposite,
  IncrementalObjective,
  MINUTE_MS,
  type ObjectiveSpec,
  validateObjective,
} from '../budget/index.js';
import type { Duration } from '../duration.js';
import type { EvaluationPart, EvaluationTarget } from '../evaluation.js';

/** One row of `sli_minutes` as the evaluator reads it: the minute's current counts. */
export interface MinuteRow {
  readonly storageKey: string;
  readonly minuteMs: number;
  readonly good: number;
  readonly total: number;
}

export interface TargetStatus {
  readonly target: EvaluationTarget;
  readonly status: BudgetStatus;
}

/** Rows up to this far ahead of the clock wait inside the engines; later ones wait here. */
export const FUTURE_MINUTES = 60;

/** Late data of longer calendar periods is kept for this long only (a ring of ~8.5 MB per part). */
const MAX_KEPT_PERIOD_MS = 367 * DAY_MS;

/** Parts with the same key share one engine: same stored stream, same objective. */
export function partKey(part: Pick<EvaluationPart, 'storageKey' | 'spec'>): string {
  return `${part.storageKey}\u0000${JSON.stringify(part.spec)}`;
}

/** The longest range a status covers apart from a calendar period: rolling period, burn windows, one slice. */
export function windowsSpanMs(spec: ObjectiveSpec): number {
  return Math.max(
    spec.window.kind === 'rolling' ? spec.window.windowMs : 0,
    spec.currentBurnWindowMs,
    spec.timeSliceMs ?? MINUTE_MS,
    ...spec.burnWindows.map((w) => w.windowMs),
  );
}

/** An upper bound of a calendar period's length (longest months, DST days), capped at 367 days. */
export function longestPeriodMs(duration: Duration): number {
  const perUnitMs: Record<Duration['unit'], number> = {
    m: MINUTE_MS,
    h: 60 * MINUTE_MS,
    d: DAY_MS,
    w: 7 * DAY_MS,
    M: 31 * DAY_MS,
    Q: 92 * DAY_MS,
    Y: 366 * DAY_MS,
  };
  // A day of slack covers every DST shift the periods may contain.
  const slackMs = duration.unit === 'm' || duration.unit === 'h' ? 0 : DAY_MS;
  return Math.min(duration.count * perUnitMs[duration.unit] + slackMs, MAX_KEPT_PERIOD_MS);
}

/**
 * The first minute a backfill must read so that every minute a status at `nowMs` covers is
 * included: `now −` the longest window, or the calendar period's start when that is earlier.
 */
export function replayStartMs(spec: ObjectiveSpec, nowMs: number): number {
  const nowMinuteMs = Math.floor(nowMs / MINUTE_MS) * MINUTE_MS;
  let startMs = nowMinuteMs - windowsSpanMs(spec);
  if (spec.window.kind === 'calendar') {
    const periodStartMs = calendarPeriodAt(spec.window, nowMs).startMs;
    startMs = Math.min(startMs, Math.floor(periodStartMs / MINUTE_MS) * MINUTE_MS);
  }
  return startMs;
}

/**
 * A target's status from its parts' statuses at one instant: a composite combines them with
 * `combineComposite` (as `evaluateTarget` does), otherwise the single part's status. Undefined when
 * a part has none; throws when the parts cannot be combined. The live path and the history replay
 * both go through here, so their points are the same math.
 */
export function targetStatus(
  target: EvaluationTarget,
  partStatus: (part: EvaluationPart) => BudgetStatus | undefined,
): BudgetStatus | undefined {
  const parts: Array<{ status: BudgetStatus; weight: number; target: number }> = [];
  for (const part of target.parts) {
    const status = partStatus(part);
    if (!status) return undefined;
    parts.push({ status, weight: part.weight, target: part.target });
  }
  return target.slo.composite ? combineComposite(parts) : parts[0]!.status;
}

/** A fresh engine for one part; a calendar part keeps its whole period so late data is never lost. */
export function newEngine(spec: ObjectiveSpec): IncrementalObjective {
  return new IncrementalObjective(spec, {
    futureMinutes: FUTURE_MINUTES,
    historyMinutes:
      spec.window.kind === 'calendar' ? longestPeriodMs(spec.window.duration) / MINUTE_MS : undefined,
  });
}

interface PartState {
  readonly key: string;
  readonly storageKey: string;
  readonly spec: ObjectiveSpec;
  /** Null until the part has been backfilled from the store. */
  engine: IncrementalObjective | null;
  /** Why the engine refused the spec; such a part (and its targets) is never evaluated. */
  readonly failure?: string | undefined;
}

export interface TargetChange {
  readonly added: number;
  readonly kept: number;
  readonly removed: number;
  /** Targets whose objective the engine refused, with the reason (each listed once per change). */
  readonly failed: ReadonlyArray<{ readonly id: string; readonly error: string }>;
}

export interface StateStats {
  readonly targets: number;
  readonly parts: number;
  readonly readyParts: number;
  readonly deferredRows: number;
  readonly stateBytes: number;
  readonly droppedLateMinutes: number;
  readonly droppedFutureMinutes: number;
  readonly rejectedSamples: number;
}

/**
 * What the leader keeps in memory between ticks. Per tick: `advanceTo(now)`, `setTargets` when the
 * specs changed, `backfill` every `pending()` storage key, `apply` the change feed, `statuses()`.
 * Every update replaces a minute's counts (`IncrementalObjective.set`), so re-reading a row, or
 * reading it both in a backfill and in the feed, is harmless.
 */
export class EvaluationState {
  private targets: readonly EvaluationTarget[] = [];
  private readonly parts = new Map<string, PartState>();
  private readonly byStorageKey = new Map<string, PartState[]>();
  /** Rows too far ahead of the clock for the engines, by storage key and minute. */
  private readonly deferred = new Map<string, Map<number, { good: number; total: number }>>();
  private clockMs = Number.NaN;

  /** The instant the engines are at; NaN before the first `advanceTo`. */
  get nowMs(): number {
    return this.clockMs;
  }

  /** Moves every ready engine to `nowMs` (never back) and hands them deferred rows now in reach. */
  advanceTo(nowMs: number): void {
    if (nowMs < this.clockMs) throw new RangeError(`the clock is at ${this.clockMs} and cannot go back`);
    this.clockMs = nowMs;
    for (const part of this.parts.values()) part.engine?.advanceTo(nowMs);
    const horizonMs = this.horizonMs();
    for (const [storageKey, minutes] of this.deferred) {
      for (const [minuteMs, counts] of minutes) {
        if (minuteMs >= horizonMs) continue;
        minutes.delete(minuteMs);
        this.setReady(storageKey, minuteMs, counts.good, counts.total);
      }
      if (minutes.size === 0) this.deferred.delete(storageKey);
    }
  }

  /**
   * Replaces the targets. A part whose storage key and spec are unchanged keeps its engine; a new
   * one waits for a backfill (see `pending`).
   */
  setTargets(targets: readonly EvaluationTarget[]): TargetChange {
    const before = new Set(this.parts.keys());
    const next = new Map<string, PartState>();
    const failed: Array<{ id: string; error: string }> = [];
    let added = 0;
    for (const target of targets) {
      for (const part of target.parts) {
        const key = partKey(part);
        let state = next.get(key) ?? this.parts.get(key);
        if (!state) {
          const issues = validateObjective(part.spec);
          const failure = issues.length
            ? issues.map((i) => `${i.field}: ${i.message}`).join('; ')
            : undefined;
          state = { key, storageKey: part.storageKey, spec: part.spec, engine: null, failure };
        }
        if (!next.has(key)) {
          next.set(key, state);
          if (!before.has(key)) added++;
        }
        if (state.failure) failed.push({ id: target.id, error: state.failure });
      }
    }
    const kept = [...next.keys()].filter((key) => before.has(key)).length;
    this.parts.clear();
    this.byStorageKey.clear();
    for (const [key, state] of next) {
      this.parts.set(key, state);
      const list = this.byStorageKey.get(state.storageKey);
      if (list) list.push(state);
      else this.byStorageKey.set(state.storageKey, [state]);
    }
    for (const storageKey of this.deferred.keys())
      if (!this.byStorageKey.has(storageKey)) this.deferred.delete(storageKey);
    this.targets = targets;
    return { added, kept, removed: before.size - kept, failed };
  }

  /** Every target, evaluated or not. */
  currentTargets(): readonly EvaluationTarget[] {
    return this.targets;
  }

  /** Ids of every target, evaluated or not (a status of any other id belongs to a removed SLO). */
  targetIds(): string[] {
    return this.targets.map((t) => t.id);
  }

  /** Storage keys with parts waiting for a backfill, and the first minute (ms) each must be read from. */
  pending(): Array<{ storageKey: string; fromMs: number }> {
    this.requireClock();
    const out: Array<{ storageKey: string; fromMs: number }> = [];
    for (const [storageKey, parts] of this.byStorageKey) {
      let fromMs = Number.POSITIVE_INFINITY;
      for (const part of parts) {
        if (!part.engine && !part.failure) fromMs = Math.min(fromMs, replayStartMs(part.spec, this.clockMs));
      }
      if (fromMs !== Number.POSITIVE_INFINITY) out.push({ storageKey, fromMs });
    }
    return out;
  }

  /**
   * Fills the waiting parts of `storageKey` from its stored rows (at least from the `pending`
   * start): each new engine starts its clock now and takes the rows as late data, which costs
   * O(rows × windows). A calendar part keeps its whole period (`newEngine`), so none is lost.
   */
  backfill(storageKey: string, rows: readonly MinuteRow[]): void {
    this.requireClock();
    const horizonMs = this.horizonMs();
    const nowMinuteMs = Math.floor(this.clockMs / MINUTE_MS) * MINUTE_MS;
    let filled = false;
    for (const part of this.byStorageKey.get(storageKey) ?? []) {
      if (part.engine || part.failure) continue;
      const engine = newEngine(part.spec);
      engine.advanceTo(this.clockMs);
      // Rows read for another part with a longer reach are older than this engine keeps: skip them.
      const fromMs = nowMinuteMs - engine.historyMs;
      for (const row of rows) {
        if (row.minuteMs >= fromMs && row.minuteMs < horizonMs) engine.set(row.minuteMs, row.good, row.total);
      }
      part.engine = engine;
      filled = true;
    }
    if (filled) this.apply(rows.filter((row) => row.minuteMs >= horizonMs));
  }

  /** Sets each row's counts into every ready part that reads its storage key. Returns rows used. */
  apply(rows: Iterable<MinuteRow>): number {
    this.requireClock();
    const horizonMs = this.horizonMs();
    let used = 0;
    for (const row of rows) {
      if (!this.byStorageKey.has(row.storageKey)) continue;
      used++;
      if (row.minuteMs >= horizonMs) {
        let minutes = this.deferred.get(row.storageKey);
        if (!minutes) {
          minutes = new Map();
          this.deferred.set(row.storageKey, minutes);
        }
        minutes.set(row.minuteMs, { good: row.good, total: row.total });
        continue;
      }
      this.deferred.get(row.storageKey)?.delete(row.minuteMs);
      this.setReady(row.storageKey, row.minuteMs, row.good, row.total);
    }
    return used;
  }

  /**
   * The status of every target whose parts are all ready, at the clock; a composite combines its
   * parts as `evaluateTarget` does. `errors` lists targets that could not be combined.
   */
  statuses(): { statuses: TargetStatus[]; errors: Array<{ id: string; error: string }> } {
    this.requireClock();
    const byPart = new Map<string, BudgetStatus>();
    const statuses: TargetStatus[] = [];
    const errors: Array<{ id: string; error: string }> = [];
    const partStatus = (part: EvaluationPart): BudgetStatus | undefined => {
      const key = partKey(part);
      let status = byPart.get(key);
      if (!status) {
        const engine = this.parts.get(key)?.engine;
        if (!engine) return undefined;
        status = engine.status(this.clockMs);
        byPart.set(key, status);
      }
      return status;
    };
    for (const target of this.targets) {
      // Each target on its own: whatever throws for one is its error, not the tick's.
      try {
        if (!target.parts.every((part) => this.parts.get(partKey(part))?.engine)) continue;
        const status = targetStatus(target, partStatus);
        if (status) statuses.push({ target, status });
      } catch (error) {
        errors.push({ id: target.id, error: (error as Error).message });
      }
    }
    return { statuses, errors };
  }

  stats(): StateStats {
    let readyParts = 0;
    let stateBytes = 0;
    let droppedLateMinutes = 0;
    let droppedFutureMinutes = 0;
    let rejectedSamples = 0;
    for (const { engine } of this.parts.values()) {
      if (!engine) continue;
      readyParts++;
      stateBytes += engine.stateBytes();
      droppedLateMinutes += engine.droppedLateMinutes;
      droppedFutureMinutes += engine.droppedFutureMinutes;
      rejectedSamples += engine.rejectedSamples;
    }
    let deferredRows = 0;
    for (const minutes of this.deferred.values()) deferredRows += minutes.size;
    return {
      targets: this.targets.length,
      parts: this.parts.size,
      readyParts,
      deferredRows,
      stateBytes,
      droppedLateMinutes,
      droppedFutureMinutes,
      rejectedSamples,
    };
  }

  private setReady(storageKey: string, minuteMs: number, good: number, total: number): void {
    for (const part of this.byStorageKey.get(storageKey) ?? []) part.engine?.set(minuteMs, good, total);
  }

  /** First minute (ms) the engines do not hold yet. */
  private horizonMs(): number {
    return (Math.floor(this.clockMs / MINUTE_MS) + FUTURE_MINUTES) * MINUTE_MS;
  }

  private requireClock(): void {
    if (Number.isNaN(this.clockMs)) throw new RangeError('call advanceTo(now) first');
  }
}
