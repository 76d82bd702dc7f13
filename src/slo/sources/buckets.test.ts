import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { minuteSums, toBuckets } from './buckets.js';
import type { PulledQueries } from './plan.js';
import type { MinuteSeries } from './port.js';

const T0 = Date.UTC(2026, 10, 1);
const M = 60_000;
/** A series written as Prometheus answers it: the sample at instant t is the minute (t − 1m, t]. */
const series = (points: Array<[number, number]>, labels: Record<string, string> = {}): MinuteSeries => ({
  labels,
  points: points.map(([t, v]) => [t - M, v] as const),
});
const ratioGood: PulledQueries = { kind: 'ratio', good: 'g', total: 't' };
const ratioBad: PulledQueries = { kind: 'ratio', bad: 'b', total: 't' };
const stream = [{ storageKey: 'sli' }];

describe('minuteSums', () => {
  it('sums series by minute', () => {
    const sums = minuteSums([
      series([[T0 + M, 3]]),
      series([
        [T0 + M, 4],
        [T0 + 2 * M, 1],
      ]),
    ]);
    expect([...sums]).toEqual([
      [T0, 7],
      [T0 + M, 1],
    ]);
  });

  it('skips NaN and infinities', () => {
    expect([
      ...minuteSums([
        series([
          [T0 + M, Number.NaN],
          [T0 + 2 * M, Number.POSITIVE_INFINITY],
        ]),
      ]),
    ]).toEqual([]);
  });
});

describe('toBuckets', () => {
  it('leaves out a minute whose total is beyond 1e12 events (or sums to ∞) instead of storing it', () => {
    const buckets = toBuckets(
      ratioGood,
      {
        good: [series([[T0 + M, 1.7e308]]), series([[T0 + M, 1.7e308]])],
        total: [
          series([
            [T0 + M, 1.7e308],
            [T0 + 2 * M, 2e12],
            [T0 + 3 * M, 1e12],
          ]),
          series([[T0 + M, 1.7e308]]),
        ],
      },
      stream,
      T0,
      T0 + 10 * M,
    );
    expect(buckets).toEqual([{ storageKey: 'sli', minuteMs: T0 + 2 * M, good: 0, total: 1e12 }]);
  });

  it('turns good and total into one bucket per minute with a total', () => {
    const buckets = toBuckets(
      ratioGood,
      {
        good: [series([[T0 + M, 99]])],
        total: [
          series([
            [T0 + M, 100],
            [T0 + 2 * M, 50],
          ]),
        ],
      },
      stream,
      T0,
      T0 + 10 * M,
    );
    expect(buckets).toEqual([
      { storageKey: 'sli', minuteMs: T0, good: 99, total: 100 },
      // no good series while there is traffic: zero good events
      { storageKey: 'sli', minuteMs: T0 + M, good: 0, total: 50 },
    ]);
  });

  it('reads bad counts as total − bad, a missing bad series as no errors', () => {
    const buckets = toBuckets(
      ratioBad,
      {
        bad: [series([[T0 + M, 2]])],
        total: [
          series([
            [T0 + M, 10],
            [T0 + 2 * M, 10],
          ]),
        ],
      },
      stream,
      T0,
      T0 + 10 * M,
    );
    expect(buckets.map((b) => b.good)).toEqual([8, 10]);
  });

  it('leaves out minutes without a total (no data is not zero traffic) and outside the range', () => {
    const buckets = toBuckets(
      ratioGood,
      {
        good: [
          series([
            [T0 + M, 1],
            [T0 + 3 * M, 1],
          ]),
        ],
        total: [
          series([
            [T0 + M, 1],
            [T0 + 9 * M, 1],
          ]),
        ],
      },
      stream,
      T0,
      T0 + 5 * M,
    );
    expect(buckets.map((b) => b.minuteMs)).toEqual([T0]);
  });

  it('clamps extrapolated counts: good above total, negative bad', () => {
    const over = toBuckets(
      ratioGood,
      { good: [series([[T0 + M, 10.4]])], total: [series([[T0 + M, 10]])] },
      stream,
      T0,
      T0 + M,
    );
    expect(over[0]).toMatchObject({ good: 10, total: 10 });
    const negative = toBuckets(
      ratioBad,
      { bad: [series([[T0 + M, -0.3]])], total: [series([[T0 + M, 5]])] },
      stream,
      T0,
      T0 + M,
    );
    expect(negative[0]).toMatchObject({ good: 5, total: 5 });
  });

  it('never stores an SLI outside [0, 1], whatever Prometheus answers', () => {
    const value = fc.oneof(
      fc.double({ noNaN: false }),
      fc.constantFrom(0, -0, Number.NaN, Number.POSITIVE_INFINITY),
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 1, max: 20 }), value), { maxLength: 30 }),
        fc.array(fc.tuple(fc.integer({ min: 1, max: 20 }), value), { maxLength: 30 }),
        fc.boolean(),
        (good, total, useBad) => {
          const pts = (xs: Array<[number, number]>) => [series(xs.map(([m, v]) => [T0 + m * M, v]))];
          const buckets = toBuckets(
            useBad ? ratioBad : ratioGood,
            { good: pts(good), bad: pts(good), total: pts(total) },
            stream,
            T0,
            T0 + 30 * M,
          );
          for (const b of buckets) {
            expect(b.total).toBeGreaterThanOrEqual(0);
            expect(b.good).toBeGreaterThanOrEqual(0);
            expect(b.good).toBeLessThanOrEqual(b.total);
            expect(Number.isFinite(b.good) && Number.isFinite(b.total)).toBe(true);
          }
        },
      ),
    );
  });

  it('gives exactly the buckets of the minute-map reference, for several series in any order', () => {
    // The ratio path before it summed into arrays: minuteSums maps, then sorted.
    const reference = (
      queries: PulledQueries,
      results: Record<string, MinuteSeries[]>,
      fromMs: number,
      toMs: number,
    ) => {
      const total = minuteSums(results.total ?? []);
      const part = minuteSums((queries.kind === 'ratio' && queries.good ? results.good : results.bad) ?? []);
      const out: Array<{ minuteMs: number; good: number; total: number }> = [];
      for (const [minuteMs, raw] of total) {
        if (minuteMs < fromMs || minuteMs >= toMs) continue;
        const t = Math.max(raw, 0);
        if (!(Number.isFinite(t) && t <= 1e12)) continue;
        const counted = Math.min(Math.max(part.get(minuteMs) ?? 0, 0), t);
        out.push({
          minuteMs,
          good: queries.kind === 'ratio' && queries.good ? counted : t - counted,
          total: t,
        });
      }
      return out.sort((a, b) => a.minuteMs - b.minuteMs);
    };
    const value = fc.oneof(
      fc.double({ noNaN: false, min: -1e3, max: 1e13 }),
      fc.double({ min: 0, max: 100 }),
      fc.constantFrom(0, -0, 0.1, 0.2, 0.3, Number.NaN, Number.POSITIVE_INFINITY),
    );
    // Points anywhere in a minute (sources may stamp inside it), several per minute, out of order.
    const points = fc.array(fc.tuple(fc.integer({ min: -5 * M, max: 35 * M }), value), { maxLength: 40 });
    const many = fc.array(points, { maxLength: 3 });
    fc.assert(
      fc.property(many, many, fc.boolean(), (good, total, useBad) => {
        const queries = useBad ? ratioBad : ratioGood;
        const toSeries = (list: Array<Array<[number, number]>>) =>
          list.map((xs) => ({ labels: {}, points: xs.map(([ms, v]) => [T0 + ms, v] as const) }));
        const results = { good: toSeries(good), bad: toSeries(good), total: toSeries(total) };
        const buckets = toBuckets(queries, results, stream, T0, T0 + 30 * M);
        expect(buckets.map(({ minuteMs, good: g, total: t }) => ({ minuteMs, good: g, total: t }))).toEqual(
          reference(queries, results, T0, T0 + 30 * M),
        );
        expect(buckets.every((b) => b.storageKey === 'sli')).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('reads a raw success ratio as one event per minute, averaged over series and clamped', () => {
    const buckets = toBuckets(
      { kind: 'raw', rawType: 'success', raw: 'r' },
      {
        raw: [
          series([
            [T0 + M, 0.9],
            [T0 + 2 * M, 1.2],
          ]),
          series([[T0 + M, 0.7]]),
        ],
      },
      stream,
      T0,
      T0 + 10 * M,
    );
    expect(buckets).toEqual([
      { storageKey: 'sli', minuteMs: T0, good: expect.closeTo(0.8, 12), total: 1 },
      { storageKey: 'sli', minuteMs: T0 + M, good: 1, total: 1 },
    ]);
    const failure = toBuckets(
      { kind: 'raw', rawType: 'failure', raw: 'r' },
      { raw: [series([[T0 + M, 0.25]])] },
      stream,
      T0,
      T0 + M,
    );
    expect(failure[0]).toMatchObject({ good: 0.75, total: 1 });
  });

  it('classifies every sample of a threshold SLI against each objective', () => {
    const streams = [
      { storageKey: 'lat:lt:0.3', threshold: { op: 'lt' as const, value: 0.3 } },
      { storageKey: 'lat:lte:1', threshold: { op: 'lte' as const, value: 1 } },
    ];
    const buckets = toBuckets(
      { kind: 'threshold', metric: 'm' },
      {
        metric: [
          series([
            [T0 + M, 0.2],
            [T0 + 2 * M, 1],
          ]),
          series([[T0 + M, 0.5]]),
        ],
      },
      streams,
      T0,
      T0 + 10 * M,
    );
    expect(buckets).toEqual([
      { storageKey: 'lat:lt:0.3', minuteMs: T0, good: 1, total: 2 },
      { storageKey: 'lat:lt:0.3', minuteMs: T0 + M, good: 0, total: 1 },
      { storageKey: 'lat:lte:1', minuteMs: T0, good: 2, total: 2 },
      { storageKey: 'lat:lte:1', minuteMs: T0 + M, good: 1, total: 1 },
    ]);
  });
});
