/**
 * The history backfill's pure core: which step boundaries of a target's history to fill, and a
 * replay of its stored minutes, in time order, through fresh engines that yields its status at
 * each of those boundaries — the points the live path would have written had it been running.
 * No I/O and no clock.
 */
import { DAY_MS } from '../../platform/dates.js';
import { type BudgetStatus, IncrementalObjective, MINUTE_MS } from '../budget/index.js';
import type { EvaluationTarget } from '../evaluation.js';
import { longestPeriodMs, type MinuteRow, partKey, replayStartMs, targetStatus } from './state.js';

/** Default of how far back history is backfilled, unless a target's period is longer. */
export const DEFAULT_HISTORY_BACKFILL_DAYS = 35;

/**
 * How far before the current step a target's history is backfilled: the longest period of its
 * parts (a rolling window, or an upper bound of a calendar period, at most 367 days), and at
 * least `minDays`, so a monthly report has its whole month.
 */
export function historySpanMs(target: EvaluationTarget, minDays: number): number {
  let spanMs = minDays * DAY_MS;
  for (const { spec } of target.parts) {
    const periodMs =
      spec.window.kind === 'rolling' ? spec.window.windowMs : longestPeriodMs(spec.window.duration);
    spanMs = Math.max(spanMs, periodMs);
  }
  return spanMs;
}

/**
 * The step boundaries a backfill at step `currentStepMs` considers, `[fromMs, toMs]`: from the
 * first step whose status covers the earliest stored minute (a status at `b` covers the minutes
 * before `b`), but not more than `spanMs` back, to the current step. Null when there is none.
 */
export function historyRange(
  earliestMinuteMs: number | null,
  currentStepMs: number,
  stepMs: number,
  spanMs: number,
): { fromMs: number; toMs: number } | null {
  if (earliestMinuteMs === null) return null;
  const minuteMs = Math.floor(earliestMinuteMs / MINUTE_MS) * MINUTE_MS;
  const firstWithDataMs = Math.ceil((minuteMs + MINUTE_MS) / stepMs) * stepMs;
  const fromMs = Math.max(firstWithDataMs, Math.ceil((currentStepMs - spanMs) / stepMs) * stepMs);
  return fromMs <= currentStepMs ? { fromMs, toMs: currentStepMs } : null;
}

/** Step boundaries in `[fromMs, toMs]` (multiples of `stepMs`) that are not in `stored`, ascending. */
export function missingSteps(
  fromMs: number,
  toMs: number,
  stepMs: number,
  stored: Iterable<number>,
): number[] {
  const have = new Set(stored);
  const out: number[] = [];
  for (let ts = fromMs; ts <= toMs; ts += stepMs) if (!have.has(ts)) out.push(ts);
  return out;
}

/** A target's status at one step boundary, from the replay. */
export interface ReplayPoint {
  readonly atMs: number;
  readonly status: BudgetStatus;
}

interface ReplayPart {
  readonly storageKey: string;
  /** Where the engine's clock starts: rows before it are not needed. */
  readonly fromMs: number;
  readonly engine: IncrementalObjective;
  /** Statuses at the steps of the current `advance`, by step index. */
  statuses: Map<number, BudgetStatus>;
}

/**
 * Replays one target's stored minutes in time order: one fresh `IncrementalObjective` per
 * distinct part, its clock started where the first step's status begins (`replayStartMs`: the
 * longest window back, or the calendar period's start) or at the first stored minute when that is
 * later (an engine started there counts the minutes before it as empty, as they are), fed every
 * stored minute in order (`advanceTo(minute)`, then `set`), and asked for its status exactly at
 * each step boundary; a composite combines its parts with `combineComposite` (`targetStatus`), as
 * the live path does. Cost: O(minutes replayed × windows) per part, plus O(windows) per step.
 *
 * Rows are handed over in consecutive chunks (`advance(toMs, rows)`), so the caller can spread a
 * long replay over several ticks; memory is one ring per part, whatever the range.
 */
export class TargetReplay {
  /** Targets whose parts could not be combined at a step (the live path cannot either). */
  readonly errors: Array<{ atMs: number; error: string }> = [];
  private readonly parts = new Map<string, ReplayPart>();
  private readonly steps: readonly number[];
  private next = 0;
  private position: number;

  /**
   * `stepsMs`: the boundaries to compute, ascending, at least one. `firstDataMs`: the earliest
   * stored minute of the target's streams, when known (no row before it may be handed over).
   */
  constructor(
    readonly target: EvaluationTarget,
    stepsMs: readonly number[],
    firstDataMs?: number | null,
  ) {
    if (stepsMs.length === 0) throw new RangeError('a replay needs at least one step');
    for (let i = 1; i < stepsMs.length; i++)
      if (!(stepsMs[i]! > stepsMs[i - 1]!)) throw new RangeError('steps must be ascending');
    this.steps = stepsMs;
    const firstMs = stepsMs[0]!;
    // No engine needs to step through the empty minutes before the data (a window's length).
    const dataMinuteMs =
      typeof firstDataMs === 'number'
        ? Math.floor(firstDataMs / MINUTE_MS) * MINUTE_MS
        : Number.NEGATIVE_INFINITY;
    const latestStartMs = Math.floor(firstMs / MINUTE_MS) * MINUTE_MS;
    this.position = Number.POSITIVE_INFINITY;
    for (const part of target.parts) {
      const key = partKey(part);
      if (this.parts.has(key)) continue;
      const fromMs = Math.max(replayStartMs(part.spec, firstMs), Math.min(dataMinuteMs, latestStartMs));
      // Minutes arrive in order, never late: the default ring (the longest window) is enough.
      const engine = new IncrementalObjective(part.spec);
      engine.advanceTo(fromMs);
      this.parts.set(key, { storageKey: part.storageKey, fromMs, engine, statuses: new Map() });
      this.position = Math.min(this.position, fromMs);
    }
  }

  /** Every stored minute before this instant has been fed; the next chunk starts here. */
  get positionMs(): number {
    return this.position;
  }

  /** The last step: minutes from here on are never needed. */
  get untilMs(): number {
    return this.steps.at(-1)!;
  }

  get done(): boolean {
    return this.next >= this.steps.length;
  }

  /** The storage keys to read, each once. */
  storageKeys(): string[] {
    return [...new Set([...this.parts.values()].map((p) => p.storageKey))];
  }

  /**
   * Feeds the stored rows of the target's storage keys with `positionMs ≤ minute < toMs` (each
   * key's rows ascending; others are ignored) and returns the target's status at every step in
   * `(positionMs, toMs]`. The next chunk starts at `toMs`.
   */
  advance(toMs: number, rows: readonly MinuteRow[]): ReplayPoint[] {
    const fromMs = this.position;
    if (!(toMs > fromMs)) throw new RangeError(`a chunk must end after ${fromMs}`);
    let last = this.next;
    while (last < this.steps.length && this.steps[last]! <= toMs) last++;
    const byKey = new Map<string, MinuteRow[]>();
    for (const row of rows) {
      if (row.minuteMs < fromMs || row.minuteMs >= toMs) continue;
      let list = byKey.get(row.storageKey);
      if (!list) {
        list = [];
        byKey.set(row.storageKey, list);
      }
      list.push(row);
    }
    for (const part of this.parts.values()) {
      const partRows = byKey.get(part.storageKey) ?? [];
      part.statuses = new Map();
      let r = 0;
      const feedBefore = (endMs: number) => {
        for (; r < partRows.length && partRows[r]!.minuteMs < endMs; r++) {
          const row = partRows[r]!;
          if (row.minuteMs < part.fromMs) continue;
          part.engine.advanceTo(row.minuteMs);
          part.engine.set(row.minuteMs, row.good, row.total);
        }
      };
      for (let i = this.next; i < last; i++) {
        const atMs = this.steps[i]!;
        feedBefore(atMs);
        part.statuses.set(i, part.engine.status(atMs));
      }
      feedBefore(toMs);
    }
    const points: ReplayPoint[] = [];
    for (let i = this.next; i < last; i++) {
      const atMs = this.steps[i]!;
      try {
        const status = targetStatus(this.target, (p) => this.parts.get(partKey(p))!.statuses.get(i));
        if (status) points.push({ atMs, status });
      } catch (error) {
        this.errors.push({ atMs, error: (error as Error).message });
      }
    }
    for (const part of this.parts.values()) part.statuses = new Map();
    this.next = last;
    this.position = toMs;
    return points;
  }
}
