/**
 * A source's per-minute series → the per-minute buckets ingestion also writes (pure). Points are
 * filed under the start of their minute (each source converts its own convention, port.ts).
 *
 * Sources estimate: Prometheus' `increase`/`rate` extrapolate to the window's edges and are
 * computed per series, so a good count can come out above the total (or a bad count below zero)
 * by a fraction of an event. Counts are clamped so that 0 ≤ good ≤ total: no minute ever has an SLI above 1 or below 0.
 * A minute whose total exceeds MAX_COUNT_PER_MINUTE (1e12) is left out as no data.
 */

import { isStorableCount } from '../counts.js';
import type { MinuteBucket } from '../ingest/aggregate.js';
import type { SliStream } from '../sli-routing.js';
import { meets } from '../threshold.js';
import type { PulledQueries } from './plan.js';
import { MINUTE_MS, type MinuteSeries } from './port.js';

/** Finite values summed over series, by minute. NaN and ±Inf are skipped. */
export function minuteSums(series: readonly MinuteSeries[]): Map<number, number> {
  const sums = new Map<number, number>();
  for (const s of series)
    for (const [ms, value] of s.points) {
      if (!Number.isFinite(value)) continue;
      const minuteMs = minuteOf(ms);
      sums.set(minuteMs, (sums.get(minuteMs) ?? 0) + value);
    }
  return sums;
}

/**
 * minuteSums over the minutes of [fromMs, toMs) only, as arrays indexed by minute: `seen` marks the
 * minutes with a finite value. Each minute's sum starts at 0 and adds its values in series order.
 */
function rangeSums(
  series: readonly MinuteSeries[],
  fromMs: number,
  toMs: number,
): { firstMs: number; sums: Float64Array; seen: Uint8Array } {
  const firstMs = Math.ceil(fromMs / MINUTE_MS) * MINUTE_MS;
  const length = Math.max(0, Math.ceil((toMs - firstMs) / MINUTE_MS));
  const sums = new Float64Array(length);
  const seen = new Uint8Array(length);
  for (const s of series)
    for (const [ms, value] of s.points) {
      if (!Number.isFinite(value)) continue;
      const minuteMs = minuteOf(ms);
      if (minuteMs < firstMs || minuteMs >= toMs) continue;
      const i = (minuteMs - firstMs) / MINUTE_MS;
      sums[i] = (seen[i] ? sums[i]! : 0) + value;
      seen[i] = 1;
    }
  return { firstMs, sums, seen };
}

/** The minute a point is filed under (a source should already stamp minute starts). */
function minuteOf(ms: number): number {
  return Math.floor(ms / MINUTE_MS) * MINUTE_MS;
}

const clamp = (x: number, low: number, high: number) => Math.min(Math.max(x, low), high);

/** Results of one SLI's queries, by query role (`good`, `bad`, `total`, `raw`, `metric`). */
export type QueryResults = Partial<
  Record<'good' | 'bad' | 'total' | 'raw' | 'metric', readonly MinuteSeries[]>
>;

/**
 * Buckets for the minutes in [fromMs, toMs). A minute without a total (no series, or only NaN) is
 * left out: that is no data, not zero traffic. A missing good or bad count with a total is 0 —
 * a selector for errors matches no series while there are none.
 */
export function toBuckets(
  queries: PulledQueries,
  results: QueryResults,
  streams: readonly SliStream[],
  fromMs: number,
  toMs: number,
): MinuteBucket[] {
  const inRange = (minuteMs: number) => minuteMs >= fromMs && minuteMs < toMs;
  const buckets: MinuteBucket[] = [];
  if (queries.kind === 'ratio') {
    const storageKey = streams[0]!.storageKey;
    // Per minute of the range in arrays, not maps: a first load turns millions of points into
    // buckets. The same additions in the same order as minuteSums, so the same sums.
    const total = rangeSums(results.total ?? [], fromMs, toMs);
    const part = rangeSums((queries.good ? results.good : results.bad) ?? [], fromMs, toMs);
    for (let i = 0; i < total.sums.length; i++) {
      if (!total.seen[i]) continue;
      const t = Math.max(total.sums[i]!, 0);
      // A sum beyond what a minute may hold (series summing to ∞, a counter reset read as 1e300)
      // is not a count: the minute is left out, as no data, rather than stored or clamped.
      if (!isStorableCount(t)) continue;
      const counted = clamp(part.seen[i] ? part.sums[i]! : 0, 0, t);
      const minuteMs = total.firstMs + i * MINUTE_MS;
      buckets.push({ storageKey, minuteMs, good: queries.good ? counted : t - counted, total: t });
    }
    // One storage key, minutes ascending: already in the order writers lock rows.
    return buckets;
  } else if (queries.kind === 'raw') {
    // A precomputed ratio: one event per minute whose goodness is the ratio (averaged over series).
    const storageKey = streams[0]!.storageKey;
    const sums = minuteSums(results.raw ?? []);
    const counts = minuteSums(
      (results.raw ?? []).map((s) => ({
        ...s,
        points: s.points.map(([ms, v]) => [ms, Number.isFinite(v) ? 1 : Number.NaN] as const),
      })),
    );
    for (const [minuteMs, sum] of sums) {
      if (!inRange(minuteMs)) continue;
      const ratio = clamp(sum / counts.get(minuteMs)!, 0, 1);
      buckets.push({
        storageKey,
        minuteMs,
        good: queries.rawType === 'success' ? ratio : 1 - ratio,
        total: 1,
      });
    }
  } else {
    // Every sample of every series is one observation, classified against each threshold.
    const byKey = new Map<string, MinuteBucket>();
    for (const s of results.metric ?? [])
      for (const [ms, value] of s.points) {
        const minuteMs = minuteOf(ms);
        if (!Number.isFinite(value) || !inRange(minuteMs)) continue;
        for (const stream of streams) {
          const key = `${stream.storageKey}\u0000${minuteMs}`;
          let bucket = byKey.get(key);
          if (!bucket) {
            bucket = { storageKey: stream.storageKey, minuteMs, good: 0, total: 0 };
            byKey.set(key, bucket);
          }
          bucket.total += 1;
          if (meets(value, stream.threshold!.op, stream.threshold!.value)) bucket.good += 1;
        }
      }
    buckets.push(...byKey.values());
  }
  // Writers lock rows in one order (storage key, minute), as ingestion does, so they can't deadlock.
  return buckets.sort((a, b) =>
    a.storageKey < b.storageKey ? -1 : a.storageKey > b.storageKey ? 1 : a.minuteMs - b.minuteMs,
  );
}
