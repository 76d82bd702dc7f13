import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { downsample, isStale, STALE_AFTER_TICKS } from './read.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 2, 14, 10, 15);

describe('downsample', () => {
  it('keeps the last point of each step bucket counted from the start', () => {
    const points = [0, 5, 10, 15, 20, 25, 61].map((m) => ({ tsMs: T0 + m * MIN }));
    expect(downsample(points, T0, 20 * MIN).map((p) => (p.tsMs - T0) / MIN)).toEqual([15, 25, 61]);
    expect(downsample(points, T0 - 5 * MIN, 20 * MIN).map((p) => (p.tsMs - T0) / MIN)).toEqual([10, 25, 61]);
    expect(downsample(points, T0, MIN)).toEqual(points);
    expect(downsample([], T0, MIN)).toEqual([]);
  });

  it('returns one point per non-empty bucket, each the newest of its bucket, in order', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 10_000 }), { maxLength: 60 }),
        fc.integer({ min: 1, max: 700 }),
        (offsets, step) => {
          const points = offsets.sort((a, b) => a - b).map((tsMs) => ({ tsMs }));
          const out = downsample(points, 0, step);
          const buckets = new Map<number, number>();
          for (const { tsMs } of points) buckets.set(Math.floor(tsMs / step), tsMs);
          expect(out.map((p) => p.tsMs)).toEqual([...buckets.values()]);
        },
      ),
    );
  });
});

describe('isStale', () => {
  it(`is stale after ${STALE_AFTER_TICKS} ticks without a new evaluation`, () => {
    const at = new Date(T0).toISOString();
    expect(isStale(at, T0 + 90_000, 30)).toBe(false);
    expect(isStale(at, T0 + 90_001, 30)).toBe(true);
    expect(isStale(T0, T0, 30)).toBe(false);
    expect(isStale('not a date', T0, 30)).toBe(true);
  });
});
