/**
 * The red/amber/green reading of an SLO, following its error-budget policy:
 * - red: the budget is exhausted (remaining ≤ 0) in any objective;
 * - amber: a policy step applies (the remaining budget is at or below one of the SLO's
 *   `shinrai.dev/error-budget-policy` thresholds), or the current burn rate (1h window) is above 1
 *   — the budget would run out before the period ends;
 * - green: otherwise;
 * - unknown: no status yet (not evaluated, or no data).
 * A stale status keeps its colour; the UI marks it stale beside it.
 */
import type { SloStatus } from './api';

export type Rag = 'red' | 'amber' | 'green' | 'unknown';

/**
 * The window whose burn rate the overview shows as "current". A copy of the server's
 * `CURRENT_BURN_WINDOW` (src/slo/burn/labels.ts), the one source of truth: the web UI talks only to
 * the API and cannot import server code; src/slo/burn/labels.test.ts fails when the two differ.
 */
export const CURRENT_BURN_WINDOW = '1h';

/** The current burn rate: the 1h window, or the shortest window reported when there is no 1h. */
export function currentBurn(status: Pick<SloStatus, 'burnRates'>): number | null {
  const rates = status.burnRates;
  const oneHour = rates[CURRENT_BURN_WINDOW];
  if (oneHour !== undefined) return oneHour;
  const shortest = Object.keys(rates).sort((a, b) => windowMs(a) - windowMs(b))[0];
  return shortest === undefined ? null : (rates[shortest] ?? null);
}

export function windowMs(label: string): number {
  const match = /^(\d+)([mhdwM])$/.exec(label);
  if (!match) return Number.POSITIVE_INFINITY;
  const unit = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, M: 2_592_000_000 }[
    match[2] as 'm' | 'h' | 'd' | 'w' | 'M'
  ];
  return Number(match[1]) * unit;
}

export function ragOf(status: Pick<SloStatus, 'budget' | 'burnRates' | 'policy' | 'sli'> | undefined): Rag {
  if (!status) return 'unknown';
  if (status.budget.remaining <= 0) return 'red';
  const burn = currentBurn(status);
  if (status.policy) return 'amber';
  if (burn !== null && burn > 1) return 'amber';
  if (status.sli === null && burn === null) return 'unknown';
  return 'green';
}

/** The worst reading among an SLO's objectives. */
export function worstRag(readings: readonly Rag[]): Rag {
  for (const r of ['red', 'amber', 'green'] as const) if (readings.includes(r)) return r;
  return 'unknown';
}
