import { AdjustmentSchedule, MinuteExclusion } from './adjustments.js';
import {
  assembleStatus,
  emptyAggregate,
  isValidSample,
  type PeriodAggregate,
  type RangeAggregate,
  SLICE_EXCLUDED,
  SLICE_MISSING,
  sliceBadness,
  windowPlan,
} from './aggregate.js';
import { CalendarPeriods } from './calendar.js';
import { MINUTE_MS, minuteCeil, minuteFloor } from './math.js';
import type { BudgetStatus, MinuteCounts, ObjectiveSpec } from './types.js';
import { assertValidObjective } from './validate.js';

/**
 * The reference engine: recomputes the status at `atMs` from all the minutes given, from scratch.
 * It is the definition of the semantics (docs/budget-engine.md); `IncrementalObjective` must agree
 * with it. Throws RangeError on an invalid spec (run `validateObjective` first).
 *
 * Everything is whole minutes: minute i covers `[i × 60 000, (i + 1) × 60 000)`, `atMs` is floored to
 * the minute (nowMin), and a range `[a, nowMin)` holds the minutes i with a ≤ i < nowMin and the
 * complete slices that start at or after a.
 */
export function evaluate(spec: ObjectiveSpec, minutes: Iterable<MinuteCounts>, atMs: number): BudgetStatus {
  assertValidObjective(spec);
  const nowMin = minuteFloor(atMs);
  const sliceMin = (spec.timeSliceMs ?? MINUTE_MS) / MINUTE_MS;
  const sliced = spec.method !== 'Occurrences';
  const calendar = spec.window.kind === 'calendar' ? new CalendarPeriods(spec.window) : null;

  // The period, in minutes: [startMin, endMin); a rolling period ends now.
  let startMs: number;
  let endMs: number;
  if (spec.window.kind === 'rolling') {
    endMs = nowMin * MINUTE_MS;
    startMs = endMs - spec.window.windowMs;
  } else {
    ({ startMs, endMs } = calendar!.periodAt(atMs));
  }
  const startMin = minuteCeil(startMs);
  const endMin = minuteCeil(endMs);

  const { windows, currentIndex } = windowPlan(spec);
  const earliestMin = Math.min(startMin, ...windows.map((w) => nowMin - w.minutes));
  const excluded = new MinuteExclusion(new AdjustmentSchedule(spec.adjustments), 0);
  excluded.load(earliestMin - sliceMin, Math.max(endMin, nowMin) + sliceMin);

  // Samples inside one minute accumulate, in input order.
  const data = new Map<number, { good: number; total: number }>();
  for (const { ts, good, total } of minutes) {
    if (!isValidSample(ts, good, total)) continue;
    const minute = minuteFloor(ts);
    if (minute < earliestMin || minute >= nowMin) continue;
    const entry = data.get(minute);
    if (entry) {
      entry.good += good;
      entry.total += total;
    } else {
      data.set(minute, { good, total });
    }
  }

  /** Minute sums over [fromMin, nowMin), skipping excluded minutes. */
  const minuteSums = (fromMin: number, agg: RangeAggregate) => {
    for (let i = fromMin; i < nowMin; i++) {
      const entry = data.get(i);
      if (!entry || excluded.isExcluded(i)) continue;
      if (entry.total > 0) agg.dataMinutes++;
      agg.good += entry.good;
      agg.bad += entry.total - entry.good;
      agg.total += entry.total;
    }
  };

  /** Badness of slice [s, e), or SLICE_MISSING / SLICE_EXCLUDED. */
  const classify = (s: number, e: number): number => {
    let allExcluded = true;
    let good = 0;
    let total = 0;
    for (let i = s; i < e; i++) {
      if (excluded.isExcluded(i)) continue;
      allExcluded = false;
      const entry = data.get(i);
      if (entry) {
        good += entry.good;
        total += entry.total;
      }
    }
    if (allExcluded) return SLICE_EXCLUDED;
    if (total === 0) return SLICE_MISSING;
    return sliceBadness(spec, good, total);
  };

  /** Slices (start, end) of the grid whose start lies in [fromMin, toMin); calendar grids restart each period. */
  const slicesStartingIn = (fromMin: number, toMin: number): Array<[number, number]> => {
    const slices: Array<[number, number]> = [];
    if (!calendar) {
      for (let s = Math.ceil(fromMin / sliceMin) * sliceMin; s < toMin; s += sliceMin)
        slices.push([s, s + sliceMin]);
      return slices;
    }
    for (let k = calendar.indexAt(fromMin * MINUTE_MS); ; k++) {
      const pStart = minuteCeil(calendar.boundaryMs(k));
      const pEnd = minuteCeil(calendar.boundaryMs(k + 1));
      if (pStart >= toMin) break;
      for (let s = pStart; s + sliceMin <= pEnd; s += sliceMin) {
        if (s >= fromMin && s < toMin) slices.push([s, s + sliceMin]);
      }
    }
    return slices;
  };

  /** Complete slices starting at or after fromMin. */
  const sliceSums = (fromMin: number, agg: RangeAggregate) => {
    for (const [s, e] of slicesStartingIn(fromMin, nowMin)) {
      if (e > nowMin) continue;
      const c = classify(s, e);
      if (c === SLICE_MISSING) agg.missingSlices++;
      else if (c !== SLICE_EXCLUDED) {
        agg.presentSlices++;
        agg.badness += c;
      }
    }
  };

  const rangeAggregate = (fromMin: number): RangeAggregate => {
    const agg = emptyAggregate();
    minuteSums(fromMin, agg);
    if (sliced) sliceSums(fromMin, agg);
    return agg;
  };

  let excludedElapsed = 0;
  for (let i = startMin; i < nowMin; i++) if (excluded.isExcluded(i)) excludedElapsed++;
  let plannedSlices = 0;
  if (sliced) {
    // The whole period: a rolling one's slices start in it; a calendar one's future slices count too.
    const planned = calendar ? slicesStartingIn(startMin, endMin) : slicesStartingIn(startMin, nowMin);
    for (const [s, e] of planned) {
      let allExcluded = true;
      for (let i = s; i < e && allExcluded; i++) allExcluded = excluded.isExcluded(i);
      if (!allExcluded) plannedSlices++;
    }
  }
  const period: PeriodAggregate = {
    ...rangeAggregate(startMin),
    startMs,
    endMs,
    eligibleMinutes: nowMin - startMin - excludedElapsed,
    plannedSlices,
  };

  const windowAggs = windows.map((w) => ({ label: w.label, agg: rangeAggregate(nowMin - w.minutes) }));
  return assembleStatus(spec, atMs, period, windowAggs, windowAggs[currentIndex]!.agg);
}
