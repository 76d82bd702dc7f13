/** The labels burn rates are keyed by (`5m`, `1h`, `3d`), and the window the "current" burn rate is read over (pure). */
import type { BurnWindow } from '../budget/index.js';
import { distinctWindowsMs, SLOTH_WINDOWS_30D } from './windows.js';

const UNITS_MS = [
  ['w', 604_800_000],
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
] as const;

/**
 * The label of a burn window: the shortest shorthand of a whole number of minutes, largest whole
 * unit first (1440 min → `1d`, 90 min → `90m`, 7 days → `1w`). Status burn rates, alert details and
 * the SLO page's charts all key windows by this label, so they match each other.
 */
export function burnWindowLabel(windowMs: number): string {
  for (const [unit, sizeMs] of UNITS_MS)
    if (windowMs >= sizeMs && windowMs % sizeMs === 0) return `${windowMs / sizeMs}${unit}`;
  return `${windowMs}ms`;
}

/** The window whose burn rate is "current": time to exhaustion, the overview's burn column, "recent data". */
export const CURRENT_BURN_WINDOW_MS = 3_600_000;

/** `1h`: the label of the current burn window (the web UI keeps a copy in web/src/rag.ts). */
export const CURRENT_BURN_WINDOW = burnWindowLabel(CURRENT_BURN_WINDOW_MS);

/**
 * The windows every SLO's status reports burn rates for: every window of the Workbook's alerts
 * (5m, 30m, 1h, 2h, 6h, 1d, 3d), whatever the period — the Workbook's windows keep their lengths
 * when the period changes, only the factors scale.
 */
export const DEFAULT_BURN_WINDOWS: readonly BurnWindow[] = distinctWindowsMs(SLOTH_WINDOWS_30D).map(
  (windowMs) => ({ label: burnWindowLabel(windowMs), windowMs }),
);

/**
 * The windows the CLI's budget table shows: the current one, then the long windows of the slow
 * page (6h) and slow ticket (3d) alerts.
 */
export const BUDGET_TABLE_BURN_WINDOWS: readonly string[] = [
  CURRENT_BURN_WINDOW,
  burnWindowLabel(SLOTH_WINDOWS_30D.page.slow.longWindowMs),
  burnWindowLabel(SLOTH_WINDOWS_30D.ticket.slow.longWindowMs),
];
