import { formatDuration } from '../duration.js';
import { burnRate, exhaustionAtMs, MINUTE_MS } from './math.js';
import type { BudgetStatus, NoDataPolicy, ObjectiveSpec } from './types.js';

/**
 * What both engines sum over one range (a burn window or the period). Every field only covers
 * complete, non-excluded minutes and complete slices that are not fully excluded.
 */
export interface RangeAggregate {
  /** Occurrences: Σgood, Σ(total − good) and Σtotal events. */
  good: number;
  bad: number;
  total: number;
  /** Minutes with total > 0. */
  dataMinutes: number;
  /** Time-slice methods: slices with data, and the sum of their badness (see `sliceBadness`). */
  presentSlices: number;
  badness: number;
  /** Time-slice methods: slices without data (total 0), handled by the no-data policy. */
  missingSlices: number;
}

export interface PeriodAggregate extends RangeAggregate {
  startMs: number;
  endMs: number;
  /** Elapsed, non-excluded minutes of the period. */
  eligibleMinutes: number;
  /** Time-slice methods: slices of the whole period that are not fully excluded. */
  plannedSlices: number;
}

export function emptyAggregate(): RangeAggregate {
  return { good: 0, bad: 0, total: 0, dataMinutes: 0, presentSlices: 0, badness: 0, missingSlices: 0 };
}

/** A window the engines track; `label` null for a current-burn window that is not reported. */
export interface PlannedWindow {
  label: string | null;
  minutes: number;
}

/** The burn windows to track, plus the index of the one that is "current". */
export function windowPlan(spec: ObjectiveSpec): { windows: PlannedWindow[]; currentIndex: number } {
  const windows: PlannedWindow[] = spec.burnWindows.map((w) => ({
    label: w.label,
    minutes: w.windowMs / MINUTE_MS,
  }));
  const currentMinutes = spec.currentBurnWindowMs / MINUTE_MS;
  let currentIndex = windows.findIndex((w) => w.minutes === currentMinutes);
  if (currentIndex < 0) {
    currentIndex = windows.length;
    windows.push({ label: null, minutes: currentMinutes });
  }
  return { windows, currentIndex };
}

export const SLICE_MISSING = -1;
export const SLICE_EXCLUDED = -2;

/**
 * Badness of a slice with data, in [0, 1]: Timeslices 0 (good: ratio ≥ timeSliceTarget, equality
 * included) or 1; RatioTimeslices 1 − good/total.
 */
export function sliceBadness(spec: ObjectiveSpec, good: number, total: number): number {
  const ratio = good / total;
  if (spec.method === 'Timeslices') return ratio >= (spec.timeSliceTarget ?? 1) ? 0 : 1;
  return 1 - ratio;
}

function countedSlices(policy: NoDataPolicy, agg: RangeAggregate): { counted: number; badness: number } {
  return {
    counted: agg.presentSlices + (policy === 'excluded' ? 0 : agg.missingSlices),
    badness: agg.badness + (policy === 'bad' ? agg.missingSlices : 0),
  };
}

/** Error ratio over a range; null when nothing in it counts. */
export function errorRatio(spec: ObjectiveSpec, agg: RangeAggregate): number | null {
  if (spec.method === 'Occurrences') return agg.dataMinutes > 0 ? agg.bad / agg.total : null;
  const { counted, badness } = countedSlices(spec.noData, agg);
  return counted > 0 ? badness / counted : null;
}

function burnOf(spec: ObjectiveSpec, agg: RangeAggregate): number | null {
  const ratio = errorRatio(spec, agg);
  return ratio === null ? null : burnRate(ratio, spec.target);
}

/** Turns the sums into a status: the one place the budget formulas live. */
export function assembleStatus(
  spec: ObjectiveSpec,
  atMs: number,
  period: PeriodAggregate,
  windows: ReadonlyArray<{ label: string | null; agg: RangeAggregate }>,
  current: RangeAggregate,
): BudgetStatus {
  const errorBudget = 1 - spec.target;
  let sli: number | null;
  let budget: BudgetStatus['budget'];
  if (spec.method === 'Occurrences') {
    const hasData = period.dataMinutes > 0;
    const total = hasData ? errorBudget * period.total : 0;
    sli = hasData ? period.good / period.total : null;
    // 1 − (bad/total)/(1 − target) equals 1 − consumed/budget, without underflow for tiny totals.
    const remaining = hasData ? 1 - burnRate(period.bad / period.total, spec.target) : 1;
    budget = { unit: 'events', total, consumed: period.bad, remaining };
  } else {
    const sliceMinutes = (spec.timeSliceMs ?? MINUTE_MS) / MINUTE_MS;
    const { counted, badness } = countedSlices(spec.noData, period);
    const eligibleSlices = period.plannedSlices - (spec.noData === 'excluded' ? period.missingSlices : 0);
    const total = errorBudget * eligibleSlices * sliceMinutes;
    const consumed = badness * sliceMinutes;
    sli = counted > 0 ? (counted - badness) / counted : null;
    budget = { unit: 'minutes', total, consumed, remaining: total > 0 ? 1 - consumed / total : 1 };
  }

  const burnRates: Record<string, number | null> = {};
  const windowEvents: Record<string, number> = {};
  for (const { label, agg } of windows) {
    if (label === null) continue;
    burnRates[label] = burnOf(spec, agg);
    if (spec.method === 'Occurrences') windowEvents[label] = agg.total;
  }
  burnRates[formatDuration(spec.window.duration)] = burnOf(spec, period);
  // Time slices already weigh every slice alike, so a low-traffic guard has nothing to count there.
  if (spec.method === 'Occurrences') windowEvents[formatDuration(spec.window.duration)] = period.total;
  const currentBurnRate = burnOf(spec, current);

  const coverage = period.eligibleMinutes > 0 ? period.dataMinutes / period.eligibleMinutes : 0;
  return {
    at: atMs,
    period: { startMs: period.startMs, endMs: period.endMs },
    sli,
    budget,
    burnRates,
    windowEvents,
    currentBurnRate,
    exhaustionAt: exhaustionAtMs(atMs, budget.remaining, period.endMs - period.startMs, currentBurnRate),
    dataSufficient: period.eligibleMinutes > 0 && coverage >= spec.minDataCoverage,
    coverage,
  };
}

/** A sample the engines accept: finite, 0 ≤ good ≤ total. Others are ignored (and counted by the incremental engine). */
export function isValidSample(ts: number, good: number, total: number): boolean {
  return Number.isFinite(ts) && Number.isFinite(total) && good >= 0 && good <= total;
}
