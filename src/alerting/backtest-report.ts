/**
 * What a backtest tells a team (pure): the alerts a policy would have raised over a history, how
 * many pages a week that is, and for every significant event — a stretch that consumed at least
 * 2% of the period's error budget — whether an alert caught it and how fast.
 */
import { median } from '../platform/stats.js';
import type { EvaluationPart, EvaluationTarget } from '../slo/index.js';
import { type BacktestAlert, type BacktestInput, backtest } from './backtest.js';

const MINUTE_MS = 60_000;
const WEEK_MINUTES = 7 * 1440;

export interface SignificantEvent {
  readonly startMs: number;
  /** End (exclusive) of the last minute that burned faster than the budget allows. */
  readonly endMs: number;
  readonly badEvents: number;
  /** Share of one period's error budget the event consumed. */
  readonly budgetShare: number;
  /** The first alert that fired during the event (or within an hour after it), if any. */
  readonly detectedBy: { readonly rule: string; readonly tier: string; readonly afterMinutes: number } | null;
}

export interface BacktestReport {
  readonly alerts: readonly BacktestAlert[];
  readonly minutes: number;
  readonly pagesPerWeek: number;
  readonly ticketsPerWeek: number;
  readonly events: readonly SignificantEvent[];
  readonly detectedEvents: number;
  /** Median minutes from the start of a detected event to its first alert; null when none. */
  readonly medianDetectionMinutes: number | null;
}

export interface ReportOptions {
  /** The SLO period, for the budget an event is measured against. */
  readonly periodMs: number;
  /** Smallest budget share that makes an event significant (default 0.02). */
  readonly minBudgetShare?: number | undefined;
  /** Burning minutes separated by at most this many calm minutes are one event (default 5). */
  readonly mergeGapMinutes?: number | undefined;
}

/**
 * Significant events: runs of minutes whose error ratio exceeds the budget's (1 − target), merged
 * across short calm gaps, kept when their bad events are at least `minBudgetShare` of a period's
 * budget. The period's budget assumes the history's average traffic.
 */
export function significantEvents(
  input: Pick<BacktestInput, 'target' | 'startMs' | 'good' | 'total'>,
  options: ReportOptions,
): Array<Omit<SignificantEvent, 'detectedBy'>> {
  const n = input.total.length;
  const allowed = 1 - input.target;
  let events = 0;
  for (let i = 0; i < n; i++) events += input.total[i]!;
  if (n === 0 || events === 0) return [];
  const periodBudget = allowed * (events / n) * (options.periodMs / MINUTE_MS);
  const gap = options.mergeGapMinutes ?? 5;
  const minShare = options.minBudgetShare ?? 0.02;
  const out: Array<Omit<SignificantEvent, 'detectedBy'>> = [];
  let start = -1;
  let last = -1;
  let bad = 0;
  const close = () => {
    if (start >= 0 && bad / periodBudget >= minShare)
      out.push({
        startMs: input.startMs + start * MINUTE_MS,
        endMs: input.startMs + (last + 1) * MINUTE_MS,
        badEvents: bad,
        budgetShare: bad / periodBudget,
      });
    start = -1;
    bad = 0;
  };
  for (let i = 0; i < n; i++) {
    const total = input.total[i]!;
    const minuteBad = Math.max(total - input.good[i]!, 0);
    if (total > 0 && minuteBad / total > allowed) {
      if (start >= 0 && i - last - 1 > gap) close();
      if (start < 0) start = i;
      last = i;
      bad += minuteBad;
    }
  }
  close();
  return out;
}

export function backtestReport(input: BacktestInput, options: ReportOptions): BacktestReport {
  const alerts = backtest(input);
  const weeks = input.total.length / WEEK_MINUTES;
  const perWeek = (tier: string) => (weeks > 0 ? alerts.filter((a) => a.tier === tier).length / weeks : 0);
  const events = significantEvents(input, options).map((event): SignificantEvent => {
    const first = alerts.find(
      (a) => a.firedAtMs > event.startMs && a.firedAtMs <= event.endMs + 60 * MINUTE_MS,
    );
    return {
      ...event,
      detectedBy: first
        ? { rule: first.rule, tier: first.tier, afterMinutes: (first.firedAtMs - event.startMs) / MINUTE_MS }
        : null,
    };
  });
  const delays = events
    .flatMap((e) => (e.detectedBy ? [e.detectedBy.afterMinutes] : []))
    .sort((a, b) => a - b);
  return {
    alerts,
    minutes: input.total.length,
    pagesPerWeek: perWeek('page'),
    ticketsPerWeek: perWeek('ticket'),
    events,
    detectedEvents: delays.length,
    medianDetectionMinutes: median(delays),
  };
}

/** Per-minute counts as the dense arrays a backtest reads, over [startMs, endMs); absent minutes are 0/0. */
export function denseMinutes(
  points: Iterable<{ readonly minuteMs: number; readonly good: number; readonly total: number }>,
  startMs: number,
  endMs: number,
): { startMs: number; good: Float64Array; total: Float64Array } {
  const n = Math.max(0, Math.round((endMs - startMs) / MINUTE_MS));
  const good = new Float64Array(n);
  const total = new Float64Array(n);
  for (const p of points) {
    const i = Math.round((p.minuteMs - startMs) / MINUTE_MS);
    if (i < 0 || i >= n) continue;
    good[i] = good[i]! + p.good;
    total[i] = total[i]! + p.total;
  }
  return { startMs, good, total };
}

type Point = { readonly minuteMs: number; readonly good: number; readonly total: number };

/**
 * A target's history as backtest input over [startMs, endMs) (default: the span of its data): one
 * series, or for a composite SLO its parts plus their sum (for significant events); undefined when
 * no part has data.
 */
export function targetSeries(
  target: EvaluationTarget,
  pointsOf: (part: EvaluationPart) => readonly Point[] | undefined,
  range?: { readonly startMs: number; readonly endMs: number },
  options: { readonly allowEmpty?: boolean } = {},
): Pick<BacktestInput, 'target' | 'startMs' | 'good' | 'total' | 'parts'> | undefined {
  const points = target.parts.map((part) => pointsOf(part) ?? []);
  const all = points.flat();
  // An empty history over a given range is all minutes without events; without a range it has no span.
  if (!all.length && !(options.allowEmpty && range)) return undefined;
  const startMs = range?.startMs ?? Math.min(...all.map((p) => p.minuteMs));
  const endMs = range?.endMs ?? Math.max(...all.map((p) => p.minuteMs)) + MINUTE_MS;
  const dense = points.map((p) => denseMinutes(p, startMs, endMs));
  if (!target.slo.composite) return { target: target.target, ...dense[0]! };
  const good = new Float64Array(dense[0]!.good.length);
  const total = new Float64Array(good.length);
  for (const d of dense)
    for (let i = 0; i < good.length; i++) {
      good[i] = good[i]! + d.good[i]!;
      total[i] = total[i]! + d.total[i]!;
    }
  return {
    target: target.target,
    startMs,
    good,
    total,
    parts: target.parts.map((part, i) => ({
      target: part.target,
      weight: part.weight,
      good: dense[i]!.good,
      total: dense[i]!.total,
    })),
  };
}

/** The period an SLO's budget is measured over: its rolling window, or a nominal 30-day month. */
export function periodOf(target: EvaluationTarget): number {
  const spec = target.parts[0]!.spec;
  return spec.window.kind === 'rolling' ? spec.window.windowMs : 30 * 1440 * MINUTE_MS;
}
