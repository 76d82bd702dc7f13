/**
 * Replaying one-minute history through alert rules (pure): which alerts would have fired, when,
 * and when they would have resolved. Window sums come from prefix sums, so the cost is
 * O(minutes × conditions) whatever the window lengths.
 *
 * At the end of minute i (instant t = start + (i + 1) min) the burn rate over a window of W minutes
 * is (bad / total over the last W minutes) / (1 − target); a window reaching before the data
 * uses what there is. A window without events has no burn rate, and no data never fires.
 * A composite SLO's burn rate is the weighted mean of its parts' (as the live status computes it).
 */

import { type AlertRule, type BurnCondition, meets } from '../slo/index.js';
import { type AlertState, advance, INACTIVE } from './lifecycle.js';

const MINUTE_MS = 60_000;

export interface BacktestInput {
  /** The objective, a fraction (0.999). */
  readonly target: number;
  readonly rules: readonly AlertRule[];
  /** Start of the first minute, epoch ms (a whole minute). */
  readonly startMs: number;
  /** Good and total events per minute, from `startMs`. */
  readonly good: ArrayLike<number>;
  readonly total: ArrayLike<number>;
  /**
   * Low-traffic guard: a condition holds only when its long window saw at least this many events
   * (default 0: off). One failed request out of ten is a 10% error rate, not an emergency.
   */
  readonly minEvents?: number | undefined;
  /**
   * A composite SLO: its parts (each with its own series, target and weight) instead of
   * `good`/`total`/`target`, which are then ignored. The guard counts the least-trafficked part.
   */
  readonly parts?: ReadonlyArray<CompositeSeries> | undefined;
}

export interface CompositeSeries {
  readonly target: number;
  readonly weight: number;
  readonly good: ArrayLike<number>;
  readonly total: ArrayLike<number>;
}

/** Prefix sums of one series: bad and total events over any window in O(1). */
class SeriesWindows {
  private readonly badPrefix: Float64Array;
  private readonly totalPrefix: Float64Array;
  private readonly budget: number;

  constructor(series: { target: number; good: ArrayLike<number>; total: ArrayLike<number> }, n: number) {
    if (series.good.length !== n || series.total.length !== n)
      throw new RangeError('good and total must have one value per minute each');
    if (!(series.target > 0 && series.target < 1)) throw new RangeError('target must be in (0, 1)');
    this.budget = 1 - series.target;
    this.badPrefix = new Float64Array(n + 1);
    this.totalPrefix = new Float64Array(n + 1);
    for (let i = 0; i < n; i++) {
      const total = series.total[i]!;
      const bad = Math.min(Math.max(total - series.good[i]!, 0), total);
      this.badPrefix[i + 1] = this.badPrefix[i]! + bad;
      this.totalPrefix[i + 1] = this.totalPrefix[i]! + total;
    }
  }

  events(end: number, windowMin: number): number {
    const start = Math.max(0, end - windowMin);
    return this.totalPrefix[end]! - this.totalPrefix[start]!;
  }

  burnRate(end: number, windowMin: number): number | null {
    const start = Math.max(0, end - windowMin);
    const total = this.totalPrefix[end]! - this.totalPrefix[start]!;
    return total > 0 ? (this.badPrefix[end]! - this.badPrefix[start]!) / total / this.budget : null;
  }
}

export interface BacktestAlert {
  readonly rule: string;
  readonly tier: AlertRule['tier'];
  readonly severity: string;
  /** Instant the rule's condition first held (before `forMs`). */
  readonly pendingAtMs: number;
  readonly firedAtMs: number;
  /** Null when still firing at the end of the data. */
  readonly resolvedAtMs: number | null;
  /** Highest long-window burn rate of the condition that held, while firing. */
  readonly peakBurnRate: number;
}

export function backtest(input: BacktestInput): BacktestAlert[] {
  const parts = input.parts ?? [{ target: input.target, weight: 1, good: input.good, total: input.total }];
  if (!parts.length) throw new RangeError('a composite needs at least one part');
  const n = parts[0]!.total.length;
  const windows = parts.map((p) => ({ weight: p.weight, series: new SeriesWindows(p, n) }));
  const minEvents = input.minEvents ?? 0;
  const minutesOf = (ms: number) => Math.round(ms / MINUTE_MS);
  /** Weighted mean over the parts that have a burn rate (one part: its own). */
  const burnRate = (end: number, windowMin: number): number | null => {
    let weights = 0;
    let sum = 0;
    for (const { weight, series } of windows) {
      const rate = series.burnRate(end, windowMin);
      if (rate === null) continue;
      weights += weight;
      sum += weight * rate;
    }
    return weights > 0 ? sum / weights : null;
  };
  /** Events of the least-trafficked part; a loop, not map + spread: it runs per minute and condition. */
  const events = (end: number, windowMin: number) => {
    let least = Number.POSITIVE_INFINITY;
    for (const w of windows) least = Math.min(least, w.series.events(end, windowMin));
    return least;
  };
  /** The long-window burn rate of the first condition that holds at minute end `end`, or null. */
  const holding = (conditions: readonly BurnCondition[], end: number): number | null => {
    for (const c of conditions) {
      const longMin = minutesOf(c.longWindowMs);
      if (minEvents > 0 && events(end, longMin) < minEvents) continue;
      const longRate = burnRate(end, longMin);
      if (longRate === null || !meets(longRate, c.op, c.factor)) continue;
      if (c.shortWindowMs !== undefined && !meets(burnRate(end, minutesOf(c.shortWindowMs)), c.op, c.factor))
        continue;
      return longRate;
    }
    return null;
  };

  const alerts: BacktestAlert[] = [];
  for (const rule of input.rules) {
    let state: AlertState = INACTIVE;
    let peak = 0;
    for (let end = 1; end <= n; end++) {
      const atMs = input.startMs + end * MINUTE_MS;
      const rate = holding(rule.conditions, end);
      const previous = state;
      const step = advance(state, rate === null ? 'clear' : 'holds', atMs, rule.forMs);
      state = step.state;
      if (step.transition === 'firing') peak = rate!;
      else if (state.phase === 'firing') peak = Math.max(peak, rate!);
      if (step.transition === 'resolved')
        alerts.push(alertOf(rule, previous.pendingSinceMs!, previous.firedAtMs!, atMs, peak));
    }
    if (state.phase === 'firing')
      alerts.push(alertOf(rule, state.pendingSinceMs!, state.firedAtMs!, null, peak));
  }
  return alerts.sort((a, b) => a.firedAtMs - b.firedAtMs || a.rule.localeCompare(b.rule));
}

function alertOf(
  rule: AlertRule,
  pendingAtMs: number,
  firedAtMs: number,
  resolvedAtMs: number | null,
  peakBurnRate: number,
): BacktestAlert {
  return {
    rule: rule.name,
    tier: rule.tier,
    severity: rule.severity,
    pendingAtMs,
    firedAtMs,
    resolvedAtMs,
    peakBurnRate,
  };
}
