/**
 * Cutting sums of stored minutes into time windows (pure): the bucket the database sums minutes
 * into, and the grouping of those bucket sums into windows such as local days.
 */

/** One window `[startMs, endMs)`, e.g. a local day in some time zone. */
export interface TimeWindow {
  readonly startMs: number;
  readonly endMs: number;
}

/** Summed SLI counts of one storage key over one window. */
export interface WindowCounts {
  readonly good: number;
  readonly total: number;
}

/** Summed SLI counts of one storage key over `[startMs, startMs + bucket)`. */
export interface BucketCounts extends WindowCounts {
  readonly storageKey: string;
  readonly startMs: number;
}

const MINUTE_MS = 60_000;
const QUARTER_HOUR_MS = 15 * MINUTE_MS;

/**
 * The bucket the database sums minutes into before they are cut into windows: 15 minutes when every
 * window starts on one (every current zone offset is a multiple of 15 minutes), else minutes.
 */
export function bucketMsFor<W extends TimeWindow>(windows: readonly W[]): number {
  const aligned = windows.every((w) => w.startMs % QUARTER_HOUR_MS === 0);
  return aligned ? QUARTER_HOUR_MS : MINUTE_MS;
}

/**
 * Sums buckets into the windows (sorted, not overlapping) they start in, per storage key; buckets
 * outside every window are dropped. A key appears only when one of its buckets fell in a window.
 */
export function groupIntoDays<W extends TimeWindow>(
  windows: readonly W[],
  buckets: readonly BucketCounts[],
): Map<string, WindowCounts[]> {
  const out = new Map<string, WindowCounts[]>();
  for (const bucket of buckets) {
    const index = windowIndex(windows, bucket.startMs);
    if (index === undefined) continue;
    let series = out.get(bucket.storageKey);
    if (!series) {
      series = windows.map(() => ({ good: 0, total: 0 }));
      out.set(bucket.storageKey, series);
    }
    const window = series[index]!;
    series[index] = { good: window.good + bucket.good, total: window.total + bucket.total };
  }
  return out;
}

function windowIndex(windows: readonly TimeWindow[], ms: number): number | undefined {
  let low = 0;
  let high = windows.length - 1;
  while (low <= high) {
    const mid = (low + high) >> 1;
    const window = windows[mid]!;
    if (ms < window.startMs) high = mid - 1;
    else if (ms >= window.endMs) low = mid + 1;
    else return mid;
  }
  return undefined;
}
