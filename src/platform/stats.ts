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

/**
 * Interpolated percentiles (PERCENTILE_CONT, as percentileContSorted) of `values` by selection
 * instead of a full sort: expected O(n) per percentile, for millions of values. `ps` in [0, 1], any
 * order. PERMUTES `values` (pass a copy to keep it); NaN must not occur. Nulls when empty.
 */
export function percentilesContInPlace(values: Float64Array, ps: readonly number[]): (number | null)[] {
  const n = values.length;
  if (!n) return ps.map(() => null);
  // Invariant: every value at an index below `settled` is ≤ every value at or above it, and the
  // indices below `settled` that were selected hold their order statistic.
  let settled = 0;
  const at = (k: number): number => {
    if (k === settled) {
      // The next order statistic is the least unsettled value: one scan, cheaper than a selection.
      let least = settled;
      for (let i = settled + 1; i < n; i++) if (values[i]! < values[least]!) least = i;
      swap(values, settled, least);
      settled = k + 1;
    } else if (k > settled) {
      select(values, k, settled, n - 1);
      settled = k + 1;
    }
    return values[k]!;
  };
  const answers: number[] = [];
  // Ascending p, so each selection works on what the previous ones left unsettled.
  for (const index of ps.map((_, i) => i).sort((a, b) => ps[a]! - ps[b]!)) {
    const position = (n - 1) * Math.min(1, Math.max(0, ps[index]!));
    const lower = Math.floor(position);
    const low = at(lower);
    answers[index] = lower === position ? low : low + (at(lower + 1) - low) * (position - lower);
  }
  return answers;
}

/**
 * Floyd–Rivest selection (CACM Algorithm 489): rearranges values[left..right] so the k-th smallest
 * is at k, smaller-or-equal values before it and greater-or-equal after.
 */
function select(values: Float64Array, k: number, left: number, right: number): void {
  while (right > left) {
    if (right - left > 600) {
      // Recurse on a sample around k to pick a pivot that lands close to k.
      const n = right - left + 1;
      const i = k - left + 1;
      const z = Math.log(n);
      const s = 0.5 * Math.exp((2 * z) / 3);
      const sd = 0.5 * Math.sqrt((z * s * (n - s)) / n) * Math.sign(i - n / 2 || 1);
      select(
        values,
        k,
        Math.max(left, Math.floor(k - (i * s) / n + sd)),
        Math.min(right, Math.floor(k + ((n - i) * s) / n + sd)),
      );
    }
    const pivot = values[k]!;
    let i = left;
    let j = right;
    swap(values, left, k);
    if (values[right]! > pivot) swap(values, left, right);
    while (i < j) {
      swap(values, i, j);
      i++;
      j--;
      while (values[i]! < pivot) i++;
      while (values[j]! > pivot) j--;
    }
    if (values[left] === pivot) swap(values, left, j);
    else {
      j++;
      swap(values, j, right);
    }
    if (j <= k) left = j + 1;
    if (k <= j) right = j - 1;
  }
}

function swap(values: Float64Array, a: number, b: number): void {
  const held = values[a]!;
  values[a] = values[b]!;
  values[b] = held;
}
