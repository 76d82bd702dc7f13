/**
 * The engine bench's baseline: a status recomputed from scratch over per-minute typed arrays in
 * one backward pass — the fastest plain recomputation, so the incremental engine's ratio is fair.
 * Covers what the bench uses: rolling windows, no adjustments, one-minute slices.
 */
import type { ObjectiveSpec } from '../src/slo/budget/types.js';

const MIN = 60_000;

export interface ScratchStatus {
  sli: number | null;
  remaining: number;
  budgetTotal: number;
  consumed: number;
  /** Per burn-window label, plus the period under its duration (e.g. "30d"). */
  burnRates: Record<string, number | null>;
  currentBurnRate: number | null;
  coverage: number;
  exhaustionAt: number | null;
}

interface Sums {
  good: number;
  bad: number;
  total: number;
  dataMinutes: number;
  badness: number;
  present: number;
  missing: number;
}

/**
 * Status at `atMs` from `good`/`total`, where index i is minute `firstMinuteMs + i·60 s`; `end` is
 * the index of the first minute that is not complete (the minute holding `atMs`).
 */
export function scratchStatus(
  spec: ObjectiveSpec,
  good: Float64Array,
  total: Float64Array,
  end: number,
  atMs: number,
): ScratchStatus {
  if (spec.window.kind !== 'rolling' || spec.adjustments.length > 0) {
    throw new Error('scratchStatus: rolling windows without adjustments only');
  }
  if (spec.method !== 'Occurrences' && spec.timeSliceMs !== MIN) {
    throw new Error('scratchStatus: one-minute slices only');
  }
  const periodMin = spec.window.windowMs / MIN;
  const periodLabel = `${spec.window.duration.count}${spec.window.duration.unit}`;
  const windows = [
    ...spec.burnWindows.map((w) => ({ label: w.label, minutes: w.windowMs / MIN })),
    { label: '\0current', minutes: spec.currentBurnWindowMs / MIN },
    { label: periodLabel, minutes: periodMin },
  ].sort((a, b) => a.minutes - b.minutes);

  const snapshots = new Map<string, Sums>();
  const longest = windows.at(-1)!.minutes;
  const sliceTarget = spec.timeSliceTarget ?? 1;
  const timeslices = spec.method === 'Timeslices';
  // Locals, not object fields, in the hot loop: this is meant to be a fast recomputation.
  let sumGood = 0;
  let sumBad = 0;
  let sumTotal = 0;
  let dataMinutes = 0;
  let sumBadness = 0;
  let missing = 0;
  let next = 0;
  let nextAt = windows[0]!.minutes;
  // One backward pass from the newest minute; each window is read off when the pass reaches its length.
  for (let back = 1; back <= longest; back++) {
    const i = end - back;
    const t = i >= 0 ? total[i]! : 0;
    if (t > 0) {
      const g = good[i]!;
      sumGood += g;
      sumBad += t - g;
      sumTotal += t;
      dataMinutes++;
      sumBadness += timeslices ? (g / t >= sliceTarget ? 0 : 1) : 1 - g / t;
    } else missing++;
    while (back === nextAt) {
      snapshots.set(windows[next]!.label, {
        good: sumGood,
        bad: sumBad,
        total: sumTotal,
        dataMinutes,
        badness: sumBadness,
        present: dataMinutes,
        missing,
      });
      next++;
      nextAt = next < windows.length ? windows[next]!.minutes : -1;
    }
  }

  const errorBudget = 1 - spec.target;
  const counted = (s: Sums) => s.present + (spec.noData === 'excluded' ? 0 : s.missing);
  const badness = (s: Sums) => s.badness + (spec.noData === 'bad' ? s.missing : 0);
  const burn = (s: Sums): number | null => {
    if (spec.method === 'Occurrences') return s.dataMinutes > 0 ? s.bad / s.total / errorBudget : null;
    const n = counted(s);
    return n > 0 ? badness(s) / n / errorBudget : null;
  };

  const period = snapshots.get(periodLabel)!;
  let sli: number | null;
  let budgetTotal: number;
  let consumed: number;
  let remaining: number;
  if (spec.method === 'Occurrences') {
    sli = period.dataMinutes > 0 ? period.good / period.total : null;
    budgetTotal = period.dataMinutes > 0 ? errorBudget * period.total : 0;
    consumed = period.bad;
    remaining = period.dataMinutes > 0 ? 1 - period.bad / period.total / errorBudget : 1;
  } else {
    const n = counted(period);
    sli = n > 0 ? (n - badness(period)) / n : null;
    const eligible = periodMin - (spec.noData === 'excluded' ? period.missing : 0);
    budgetTotal = errorBudget * eligible;
    consumed = badness(period);
    remaining = budgetTotal > 0 ? 1 - consumed / budgetTotal : 1;
  }

  const burnRates: Record<string, number | null> = {};
  for (const w of spec.burnWindows) burnRates[w.label] = burn(snapshots.get(w.label)!);
  burnRates[periodLabel] = burn(period);
  const currentBurnRate = burn(snapshots.get('\0current')!);
  let exhaustionAt: number | null = null;
  if (remaining <= 0) exhaustionAt = atMs;
  else if (currentBurnRate !== null && currentBurnRate > 0) {
    exhaustionAt = atMs + Math.round((remaining * spec.window.windowMs) / currentBurnRate);
  }
  return {
    sli,
    remaining,
    budgetTotal,
    consumed,
    burnRates,
    currentBurnRate,
    coverage: period.dataMinutes / periodMin,
    exhaustionAt,
  };
}
