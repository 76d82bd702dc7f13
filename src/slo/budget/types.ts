import type { Duration } from '../duration.js';

export type BudgetingMethod = 'Occurrences' | 'Timeslices' | 'RatioTimeslices';

/** What a time slice without data counts as. Has no effect on Occurrences (a missing minute has no events). */
export type NoDataPolicy = 'excluded' | 'good' | 'bad';

export type WindowSpec =
  /** A window of fixed length ending at the evaluation instant; `windowMs` is the length of `duration`. */
  | { kind: 'rolling'; duration: Duration; windowMs: number }
  /**
   * Calendar periods `startTime + k × duration` in `timeZone` (IANA). `startTime` is local wall time,
   * `yyyy-MM-dd HH:mm:ss` or `yyyy-MM-ddTHH:mm:ss`, with zero seconds.
   */
  | { kind: 'calendar'; duration: Duration; startTime: string; timeZone: string };

export type Adjustment =
  /** Excludes `[startMs, endMs)`. */
  | { kind: 'one-off'; startMs: number; endMs: number }
  /** RFC 5545 text with DTSTART (TZID allowed); each occurrence excludes `[occurrence, occurrence + durationMs)`. */
  | { kind: 'recurring'; rrule: string; durationMs: number };

/** A window over which a burn rate is reported, e.g. `{ label: '5m', windowMs: 300_000 }`. */
export interface BurnWindow {
  label: string;
  windowMs: number;
}

export interface ObjectiveSpec {
  /** In (0, 1), e.g. 0.999. */
  target: number;
  method: BudgetingMethod;
  /** Timeslices only, in (0, 1]: a slice is good when good/total ≥ this (exactly equal is good). */
  timeSliceTarget?: number;
  /** Timeslices and RatioTimeslices: slice length, a whole number of minutes. */
  timeSliceMs?: number;
  window: WindowSpec;
  noData: NoDataPolicy;
  adjustments: readonly Adjustment[];
  /** Reported burn-rate windows; the period itself is always reported too, under `formatDuration(window.duration)`. */
  burnWindows: readonly BurnWindow[];
  /** The burn window whose rate drives time to exhaustion (need not be among `burnWindows`). */
  currentBurnWindowMs: number;
  /** Fraction of elapsed, non-excluded period minutes that must have data for `dataSufficient`. */
  minDataCoverage: number;
}

/** Counts for one minute; `ts` is the minute start. Samples inside one minute accumulate. */
export interface MinuteCounts {
  ts: number;
  good: number;
  total: number;
}

export interface BudgetStatus {
  at: number;
  /** Rolling: `[at₀ − windowMs, at₀)` with at₀ = `at` floored to the minute; calendar: the period containing `at`. */
  period: { startMs: number; endMs: number };
  /** null when nothing in the period counts (no events, or no counted slice). */
  sli: number | null;
  /**
   * `remaining` is the fraction of the period's budget left (negative when overspent); `total` and
   * `consumed` are in events (Occurrences) or minutes (time-slice methods).
   */
  budget: { unit: 'events' | 'minutes'; total: number; consumed: number; remaining: number };
  /** Burn rate per label (burn windows and the period); null when the window has no data. */
  burnRates: Record<string, number | null>;
  /** Occurrences only: events per burn-rate label, for low-traffic guards (empty for time-slice methods). */
  windowEvents: Record<string, number>;
  /** Burn rate over `currentBurnWindowMs`, the one `exhaustionAt` is computed from. */
  currentBurnRate: number | null;
  /** When the budget runs out at the current burn rate; `at` when already spent; null when not burning. */
  exhaustionAt: number | null;
  dataSufficient: boolean;
  /** Minutes with data / eligible (elapsed, non-excluded) minutes of the period; 0 when there are none. */
  coverage: number;
}
