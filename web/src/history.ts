/** Picking the history step from the chart range, within the API's 10,000 points per request. */

export const MAX_POINTS = 9_000;
const STEPS: readonly [string, number][] = [
  ['1m', 60_000],
  ['5m', 300_000],
  ['15m', 900_000],
  ['1h', 3_600_000],
  ['6h', 21_600_000],
  ['1d', 86_400_000],
];

/** The finest step that keeps the range within MAX_POINTS: 24h → 1m, 7d and 30d → 5m, 90d → 15m. */
export function stepFor(rangeMs: number): string {
  for (const [label, ms] of STEPS) if (rangeMs / ms <= MAX_POINTS) return label;
  return '1d';
}

export const RANGES = { '24h': 86_400_000, '7d': 7 * 86_400_000, '30d': 30 * 86_400_000 } as const;
export type RangeKey = keyof typeof RANGES;
