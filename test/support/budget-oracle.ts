/**
 * A deliberately naive error-budget oracle for tests, written from the definitions in PRODUCT.md
 * ("Canon") and docs/budget-engine.md, sharing no code with src/slo/budget (only its types): every
 * range is re-summed minute by minute, every slice re-judged from its minutes, every calendar
 * boundary taken from Luxon by stepping from the start. Slow on purpose; clear rather than clever.
 *
 * Supported: every budgeting method and no-data policy, rolling and calendar windows, one-off
 * adjustments, and recurring adjustments of the form `DTSTART:…Z` + `RRULE:FREQ=MINUTELY|HOURLY|
 * DAILY;INTERVAL=n` (UTC, no COUNT/UNTIL). Anything else throws, so a test cannot silently compare less.
 */
import { DateTime, type DurationLikeObject } from 'luxon';
import type { Adjustment, MinuteCounts, ObjectiveSpec } from '../../src/slo/budget/types.js';

const MINUTE = 60_000;

export interface OracleStatus {
  period: { startMs: number; endMs: number };
  sli: number | null;
  budget: { unit: 'events' | 'minutes'; total: number; consumed: number; remaining: number };
  burnRates: Record<string, number | null>;
  windowEvents: Record<string, number>;
  currentBurnRate: number | null;
  exhaustionAt: number | null;
  coverage: number;
  dataSufficient: boolean;
  /** Time-slice methods: E, the slices the period's budget is made of (0 for Occurrences). */
  eligibleSlices: number;
}

/** Is the minute starting at `minuteMs` inside an excluded interval? */
type Exclusion = (minuteMs: number) => boolean;

function exclusionOf(adjustments: readonly Adjustment[]): Exclusion {
  const tests: Exclusion[] = adjustments.map((adjustment) => {
    if (adjustment.kind === 'one-off') {
      return (t) => adjustment.startMs <= t && t < adjustment.endMs;
    }
    const { dtstartMs, everyMs } = simpleRule(adjustment.rrule);
    // Occurrence k starts at dtstart + k·every (k ≥ 0) and excludes [start, start + duration).
    return (t) => {
      if (t < dtstartMs) return false;
      for (let k = Math.floor((t - dtstartMs) / everyMs); k >= 0; k--) {
        const start = dtstartMs + k * everyMs;
        if (start + adjustment.durationMs <= t) return false;
        if (start <= t) return true;
      }
      return false;
    };
  });
  return (t) => tests.some((test) => test(t));
}

function simpleRule(text: string): { dtstartMs: number; everyMs: number } {
  const start = /DTSTART:(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z/.exec(text);
  const rule = /RRULE:FREQ=(MINUTELY|HOURLY|DAILY)(?:;INTERVAL=(\d+))?\s*$/m.exec(text);
  if (!start || !rule) throw new Error(`oracle: unsupported recurring adjustment ${JSON.stringify(text)}`);
  const [, y, mo, d, h, mi, s] = start.map(Number) as number[];
  const unitMs = { MINUTELY: MINUTE, HOURLY: 60 * MINUTE, DAILY: 1440 * MINUTE }[rule[1] as string]!;
  return {
    dtstartMs: Date.UTC(y!, mo! - 1, d!, h!, mi!, s!),
    everyMs: unitMs * Number(rule[2] ?? 1),
  };
}

const LUXON_UNITS: Record<string, keyof DurationLikeObject> = {
  m: 'minutes',
  h: 'hours',
  d: 'days',
  w: 'weeks',
  M: 'months',
  Q: 'quarters',
  Y: 'years',
};

/** Calendar period k = [start + k·duration, start + (k+1)·duration) in the window's zone. */
function calendarBoundary(spec: ObjectiveSpec): (k: number) => number {
  const window = spec.window;
  if (window.kind !== 'calendar') throw new Error('oracle: not a calendar window');
  const text = window.startTime.replace('T', ' ');
  const start = DateTime.fromFormat(text, 'yyyy-MM-dd HH:mm:ss', { zone: window.timeZone });
  if (!start.isValid) throw new Error(`oracle: bad calendar start ${window.startTime}`);
  const unit = LUXON_UNITS[window.duration.unit]!;
  return (k) => {
    const ms = start.plus({ [unit]: k * window.duration.count }).toMillis();
    if (ms % MINUTE !== 0) throw new Error('oracle: calendar boundaries must fall on whole minutes');
    return ms;
  };
}

interface Slice {
  startMs: number;
  endMs: number;
}

/** Naive recomputation of an objective's status at `atMs` from all the samples given. */
export function oracleStatus(
  spec: ObjectiveSpec,
  samples: readonly MinuteCounts[],
  atMs: number,
): OracleStatus {
  const now = Math.floor(atMs / MINUTE) * MINUTE;
  const excluded = exclusionOf(spec.adjustments);
  const sliceMs = spec.method === 'Occurrences' ? MINUTE : spec.timeSliceMs!;
  const errorBudget = 1 - spec.target;

  // Per-minute counts: valid samples only (finite, 0 ≤ good ≤ total), added up within a minute.
  const counts = new Map<number, { good: number; total: number }>();
  for (const { ts, good, total } of samples) {
    if (!Number.isFinite(ts) || !Number.isFinite(total) || !(good >= 0) || !(good <= total)) continue;
    const minute = Math.floor(ts / MINUTE) * MINUTE;
    const c = counts.get(minute) ?? { good: 0, total: 0 };
    c.good += good;
    c.total += total;
    counts.set(minute, c);
  }
  const at = (minute: number) => counts.get(minute) ?? { good: 0, total: 0 };

  // The period.
  let startMs: number;
  let endMs: number;
  let boundary: ((k: number) => number) | null = null;
  let periodIndex = 0;
  if (spec.window.kind === 'rolling') {
    endMs = now;
    startMs = now - spec.window.windowMs;
  } else {
    boundary = calendarBoundary(spec);
    while (boundary(periodIndex) > atMs) periodIndex--;
    while (boundary(periodIndex + 1) <= atMs) periodIndex++;
    startMs = boundary(periodIndex);
    endMs = boundary(periodIndex + 1);
  }

  /** Every slice of the grid that starts in [fromMs, toMs), complete or not. */
  const slicesStartingIn = (fromMs: number, toMs: number): Slice[] => {
    const slices: Slice[] = [];
    if (boundary === null) {
      // Rolling windows: a grid aligned to the epoch.
      for (let s = Math.ceil(fromMs / sliceMs) * sliceMs; s < toMs; s += sliceMs) {
        slices.push({ startMs: s, endMs: s + sliceMs });
      }
      return slices;
    }
    // Calendar windows: the grid restarts at each period start; a short remainder is no slice.
    let k = periodIndex;
    while (boundary(k) > fromMs) k--;
    for (; boundary(k) < toMs; k++) {
      const pEnd = boundary(k + 1);
      for (let s = boundary(k); s + sliceMs <= pEnd; s += sliceMs) {
        if (s >= fromMs && s < toMs) slices.push({ startMs: s, endMs: s + sliceMs });
      }
    }
    return slices;
  };

  /** A slice: 'excluded' (all its minutes are), 'missing' (no events), or its ratio good/total. */
  const judge = (slice: Slice): 'excluded' | 'missing' | number => {
    let anyIncluded = false;
    let good = 0;
    let total = 0;
    for (let m = slice.startMs; m < slice.endMs; m += MINUTE) {
      if (excluded(m)) continue;
      anyIncluded = true;
      good += at(m).good;
      total += at(m).total;
    }
    if (!anyIncluded) return 'excluded';
    if (total === 0) return 'missing';
    return good / total;
  };

  /** Error ratio over [fromMs, now), or null when nothing counts there; plus its events. */
  const errorRatio = (fromMs: number): { ratio: number | null; events: number } => {
    if (spec.method === 'Occurrences') {
      let bad = 0;
      let total = 0;
      for (let m = fromMs; m < now; m += MINUTE) {
        if (excluded(m)) continue;
        bad += at(m).total - at(m).good;
        total += at(m).total;
      }
      return { ratio: total > 0 ? bad / total : null, events: total };
    }
    const ratios = countedSliceRatios(fromMs);
    if (ratios.length === 0) return { ratio: null, events: 0 };
    return { ratio: ratios.reduce((sum, r) => sum + (1 - r), 0) / ratios.length, events: 0 };
  };

  /** Ratios of the complete, counted slices starting in [fromMs, now): missing ones per the policy. */
  const countedSliceRatios = (fromMs: number): number[] => {
    const ratios: number[] = [];
    for (const slice of slicesStartingIn(fromMs, now)) {
      if (slice.endMs > now) continue;
      const verdict = judge(slice);
      if (verdict === 'excluded') continue;
      if (verdict === 'missing') {
        if (spec.noData === 'good') ratios.push(1);
        if (spec.noData === 'bad') ratios.push(0);
        continue;
      }
      // Timeslices: a slice is good (1) iff its ratio reaches the slice target, else bad (0).
      if (spec.method === 'Timeslices') ratios.push(verdict >= spec.timeSliceTarget! ? 1 : 0);
      else ratios.push(verdict);
    }
    return ratios;
  };

  // SLI and budget over the period.
  let sli: number | null;
  let budget: OracleStatus['budget'];
  let eligibleSlices = 0;
  if (spec.method === 'Occurrences') {
    let good = 0;
    let bad = 0;
    let total = 0;
    for (let m = startMs; m < now; m += MINUTE) {
      if (excluded(m)) continue;
      good += at(m).good;
      bad += at(m).total - at(m).good;
      total += at(m).total;
    }
    sli = total > 0 ? good / total : null;
    const budgetEvents = total > 0 ? errorBudget * total : 0;
    budget = {
      unit: 'events',
      total: budgetEvents,
      consumed: bad,
      remaining: budgetEvents > 0 ? 1 - bad / budgetEvents : 1,
    };
  } else {
    const ratios = countedSliceRatios(startMs);
    sli = ratios.length > 0 ? ratios.reduce((a, b) => a + b, 0) / ratios.length : null;
    const sliceMinutes = sliceMs / MINUTE;
    // E: the slices of the whole period (rolling: those starting in it; calendar: all, future
    // ones included), less the fully excluded ones, less (policy excluded) missing complete ones.
    const whole = slicesStartingIn(startMs, boundary === null ? now : endMs);
    for (const slice of whole) {
      const verdict = judge(slice);
      if (verdict === 'excluded') continue;
      if (verdict === 'missing' && spec.noData === 'excluded' && slice.endMs <= now) continue;
      eligibleSlices++;
    }
    const total = errorBudget * eligibleSlices * sliceMinutes;
    const consumed = ratios.reduce((sum, r) => sum + (1 - r), 0) * sliceMinutes;
    budget = { unit: 'minutes', total, consumed, remaining: total > 0 ? 1 - consumed / total : 1 };
  }

  // Burn rates: error ratio / error budget, per burn window and over the period.
  const burn = (fromMs: number) => {
    const { ratio, events } = errorRatio(fromMs);
    return { rate: ratio === null ? null : ratio / errorBudget, events };
  };
  const burnRates: Record<string, number | null> = {};
  const windowEvents: Record<string, number> = {};
  const periodLabel = `${spec.window.duration.count}${spec.window.duration.unit}`;
  for (const w of spec.burnWindows) {
    const { rate, events } = burn(now - w.windowMs);
    burnRates[w.label] = rate;
    if (spec.method === 'Occurrences') windowEvents[w.label] = events;
  }
  const wholePeriod = burn(startMs);
  burnRates[periodLabel] = wholePeriod.rate;
  if (spec.method === 'Occurrences') windowEvents[periodLabel] = wholePeriod.events;
  const currentBurnRate = burn(now - spec.currentBurnWindowMs).rate;

  // Time to exhaustion at burn rate b with r of the budget left: r × period / b.
  let exhaustionAt: number | null = null;
  if (budget.remaining <= 0) exhaustionAt = atMs;
  else if (currentBurnRate !== null && currentBurnRate > 0) {
    const ms = (budget.remaining * (endMs - startMs)) / currentBurnRate;
    // Beyond ±8.64e15 ms (what a JavaScript Date holds) is "never", as the engine documents.
    const at = atMs + Math.round(ms);
    exhaustionAt = Number.isFinite(ms) && Math.abs(at) <= 8.64e15 ? at : null;
  }

  // Coverage: minutes with data / elapsed, non-excluded minutes of the period.
  let elapsed = 0;
  let withData = 0;
  for (let m = startMs; m < now; m += MINUTE) {
    if (excluded(m)) continue;
    elapsed++;
    if (at(m).total > 0) withData++;
  }
  const coverage = elapsed > 0 ? withData / elapsed : 0;

  return {
    period: { startMs, endMs },
    sli,
    budget,
    burnRates,
    windowEvents,
    currentBurnRate,
    exhaustionAt,
    coverage,
    dataSufficient: elapsed > 0 && coverage >= spec.minDataCoverage,
    eligibleSlices,
  };
}
