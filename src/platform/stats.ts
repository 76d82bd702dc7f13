/** Small order statistics for reports (response times, detection delays). */

/** The median of the values (the mean of the middle two for an even count); null when empty. */
export function median(values: readonly number[]): number | null {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Nearest-rank percentile (p in (0, 1]); null when empty. */
export function percentile(values: readonly number[], p: number): number | null {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
}

/**
 * Interpolated percentile of values already sorted ascending (PERCENTILE_CONT, as BigQuery and
 * PostgreSQL compute it and Four Keys reports it): the value at position (n − 1) · p, linearly
 * interpolated between its two neighbours. p in [0, 1]; null when empty. O(1): sort once, ask often.
 */
export function percentileContSorted(sorted: ArrayLike<number>, p: number): number | null {
  const n = sorted.length;
  if (!n) return null;
  const position = (n - 1) * Math.min(1, Math.max(0, p));
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  const low = sorted[lower]!;
  if (lower === upper) return low;
  const high = sorted[upper]!;
  return low + (high - low) * (position - lower);
}

/** Interpolated percentile (PERCENTILE_CONT) of unsorted values; see percentileContSorted. */
export function percentileCont(values: readonly number[], p: number): number | null {
  return percentileContSorted(Float64Array.from(values).sort(), p);
}
