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
  return finestStep(rangeMs)[0];
}

/**
 * How often a chart of this range is fetched again: once per step, since a new point appears no
 * sooner (30 days are 2.5 MB of JSON: not worth fetching every minute for a 5-minute point).
 */
export function refreshMsFor(rangeMs: number): number {
  return Math.max(finestStep(rangeMs)[1], 60_000);
}

/**
 * Where a chart of this range ends: now, rounded down to the chart's step (at least the minute).
 * Every viewer in the same step asks for the same range, so the server's history cache
 * (docs/api.md#caching) answers all but the first; the chart is fetched again once per step
 * anyway (refreshMsFor), so it shows nothing later than it would otherwise.
 */
export function chartEndMs(nowMs: number, rangeMs: number): number {
  const stepMs = Math.max(finestStep(rangeMs)[1], 60_000);
  return Math.floor(nowMs / stepMs) * stepMs;
}

function finestStep(rangeMs: number): readonly [string, number] {
  return STEPS.find(([, ms]) => rangeMs / ms <= MAX_POINTS) ?? STEPS[STEPS.length - 1]!;
}

export const RANGES = { '24h': 86_400_000, '7d': 7 * 86_400_000, '30d': 30 * 86_400_000 } as const;
export type RangeKey = keyof typeof RANGES;
