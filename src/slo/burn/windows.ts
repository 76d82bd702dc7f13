/**
 * Multiwindow multi-burn-rate alert windows: Sloth's defaults (the SRE Workbook's), windows for
 * other periods, and custom `AlertWindows` catalogs. The burn-rate factor of a window is
 * budget% × period / long window: the burn rate that consumes that share of the period's error
 * budget within the long window.
 */
import { DAY_MS } from '../../platform/dates.js';
import { promDuration } from '../duration.js';
import type { AlertWindowSpec, AlertWindowsDefinition } from '../spec/parsed.js';

export type { AlertWindowSpec };

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

/** The windows of one SLO period: page and ticket alerts, each a quick and a slow window pair. */
export interface AlertWindowSet {
  readonly periodMs: number;
  readonly page: { readonly quick: AlertWindowSpec; readonly slow: AlertWindowSpec };
  readonly ticket: { readonly quick: AlertWindowSpec; readonly slow: AlertWindowSpec };
}

/** Burn-rate factors of a window set, in the order page quick, page slow, ticket quick, ticket slow. */
export interface BurnRateFactors {
  readonly pageQuick: number;
  readonly pageSlow: number;
  readonly ticketQuick: number;
  readonly ticketSlow: number;
}

/** The Workbook's windows with the period left open: 2%/5m/1h, 5%/30m/6h, 10%/2h/1d, 10%/6h/3d. */
function workbookWindows(periodMs: number): AlertWindowSet {
  return {
    periodMs,
    page: {
      quick: { errorBudgetPercent: 2, shortWindowMs: 5 * MINUTE_MS, longWindowMs: HOUR_MS },
      slow: { errorBudgetPercent: 5, shortWindowMs: 30 * MINUTE_MS, longWindowMs: 6 * HOUR_MS },
    },
    ticket: {
      quick: { errorBudgetPercent: 10, shortWindowMs: 2 * HOUR_MS, longWindowMs: DAY_MS },
      slow: { errorBudgetPercent: 10, shortWindowMs: 6 * HOUR_MS, longWindowMs: 3 * DAY_MS },
    },
  };
}

/** Sloth's default windows for a 30-day period (`google-30d`): factors 14.4, 6, 3, 1. */
export const SLOTH_WINDOWS_30D: AlertWindowSet = workbookWindows(30 * DAY_MS);

/** Sloth's default windows for a 28-day period (`google-28d`): factors 13.44, 5.6, 2.8, 0.933…. */
export const SLOTH_WINDOWS_28D: AlertWindowSet = workbookWindows(28 * DAY_MS);

/** The window set of a Sloth `AlertWindows` spec loaded with the other specs. */
export function windowsFromDefinition(def: AlertWindowsDefinition): AlertWindowSet {
  return { periodMs: def.periodMs, page: def.page, ticket: def.ticket };
}

/** Go's `time.Duration.Hours()`: whole hours plus the remainder as a fraction, in that order. */
export function goHours(ms: number): number {
  return Math.trunc(ms / 3_600_000) + (ms % 3_600_000) / 3_600_000;
}

/**
 * The burn-rate factor of one window, computed in the same order of float operations as Sloth
 * (`budget% × period hours / 100 / long window hours`) so the printed constant is identical.
 */
export function burnRateFactor(periodMs: number, window: AlertWindowSpec): number {
  return (window.errorBudgetPercent * goHours(periodMs)) / 100 / goHours(window.longWindowMs);
}

/** The four factors of a window set (page quick/slow, ticket quick/slow). */
export function burnRateFactors(windows: AlertWindowSet): BurnRateFactors {
  return {
    pageQuick: burnRateFactor(windows.periodMs, windows.page.quick),
    pageSlow: burnRateFactor(windows.periodMs, windows.page.slow),
    ticketQuick: burnRateFactor(windows.periodMs, windows.ticket.quick),
    ticketSlow: burnRateFactor(windows.periodMs, windows.ticket.slow),
  };
}

/** Every distinct window of a set, shortest first: the SLI windows the rules record. */
export function distinctWindowsMs(windows: AlertWindowSet): number[] {
  const all = [windows.page.quick, windows.page.slow, windows.ticket.quick, windows.ticket.slow].flatMap(
    (w) => [w.shortWindowMs, w.longWindowMs],
  );
  return [...new Set(all)].sort((a, b) => a - b);
}

/** Where a period's windows came from: an `AlertWindows` spec, Sloth's defaults, or the Workbook's scaled. */
export type WindowsSource = 'custom' | 'sloth-default' | 'workbook-scaled';

/** The windows chosen for a period, or why none fit. */
export type WindowsChoice =
  | { readonly ok: true; readonly windows: AlertWindowSet; readonly source: WindowsSource }
  | { readonly ok: false; readonly error: string };

/**
 * The windows for an SLO period: a custom catalog for that period first, then Sloth's defaults
 * (30d, 28d), then the Workbook's windows applied to the period, whose factors follow from the
 * formula (7d: 3.36, 1.4, 0.7, 0.233…). Sloth itself refuses periods it has no catalog for;
 * Shinrai only refuses periods shorter than the longest window, where no factor makes sense.
 */
export function windowsForPeriod(periodMs: number, custom: readonly AlertWindowSet[] = []): WindowsChoice {
  const own = custom.find((w) => w.periodMs === periodMs);
  if (own) return { ok: true, windows: own, source: 'custom' };
  for (const defaults of [SLOTH_WINDOWS_30D, SLOTH_WINDOWS_28D])
    if (defaults.periodMs === periodMs) return { ok: true, windows: defaults, source: 'sloth-default' };
  const scaled = workbookWindows(periodMs);
  const longestMs = Math.max(...distinctWindowsMs(scaled));
  if (periodMs < longestMs)
    return {
      ok: false,
      error: `the SLO period ${promDuration(periodMs)} is shorter than the ${promDuration(longestMs)} alert window of the default windows; give an AlertWindows spec for it with --windows`,
    };
  return { ok: true, windows: scaled, source: 'workbook-scaled' };
}
