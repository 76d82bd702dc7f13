import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ThresholdOp } from '../model.js';
import type { SliStream } from '../sli-routing.js';
import { meets } from '../threshold.js';
import { aggregateBatch, MINUTE_MS } from './aggregate.js';
import type { BatchItem } from './parse.js';

const T0 = Date.UTC(2026, 10, 23, 12, 0);
const stream = (op: ThresholdOp, value: number): SliStream => ({
  storageKey: `latency:${op}:${value}`,
  threshold: { op, value },
});
const raw = (tsMs: number, value: number): BatchItem => ({ kind: 'raw', tsMs, value });
const counts = (tsMs: number, good: number, total: number): BatchItem => ({
  kind: 'counts',
  tsMs,
  good,
  total,
});

describe('aggregateBatch', () => {
  it('sums counts per minute: the first and last millisecond of a minute land in it', () => {
    const { buckets, minutes } = aggregateBatch(
      [
        counts(T0, 9, 10),
        counts(T0 + MINUTE_MS - 1, 5, 5),
        counts(T0 + MINUTE_MS, 0, 2),
        counts(T0 - 1, 1, 1),
      ],
      [{ storageKey: 'checkout' }],
    );
    expect(buckets).toEqual([
      { storageKey: 'checkout', minuteMs: T0 - MINUTE_MS, good: 1, total: 1 },
      { storageKey: 'checkout', minuteMs: T0, good: 14, total: 15 },
      { storageKey: 'checkout', minuteMs: T0 + MINUTE_MS, good: 0, total: 2 },
    ]);
    expect(minutes).toBe(3);
  });

  it('classifies each raw value against every threshold, equality included', () => {
    const streams = [stream('lte', 1000), stream('lt', 300), stream('gte', 100)];
    const { buckets, minutes } = aggregateBatch(
      [
        raw(T0, 299),
        raw(T0 + 1, 300),
        raw(T0 + 2, 1000),
        raw(T0 + 3, 1000.5),
        raw(T0 + 4, 100),
        raw(T0 + 5, 99),
      ],
      streams,
    );
    expect(minutes).toBe(1);
    // Sorted by storage key, whatever the order of the streams.
    expect(buckets).toEqual([
      { storageKey: 'latency:gte:100', minuteMs: T0, good: 5, total: 6 },
      { storageKey: 'latency:lt:300', minuteMs: T0, good: 3, total: 6 },
      { storageKey: 'latency:lte:1000', minuteMs: T0, good: 5, total: 6 },
    ]);
  });

  it('adds counts and raw values to the same minute of a single-threshold stream', () => {
    const { buckets } = aggregateBatch(
      [raw(T0, 10), counts(T0 + 5, 3, 4), raw(T0 + 9, 500)],
      [stream('lt', 300)],
    );
    expect(buckets).toEqual([{ storageKey: 'latency:lt:300', minuteMs: T0, good: 4, total: 6 }]);
  });

  it('returns nothing for an empty batch', () => {
    expect(aggregateBatch([], [stream('lt', 1)])).toEqual({ buckets: [], minutes: 0 });
  });

  it('conserves events: per stream, totals add up to the items and good to the good ones', () => {
    const thresholds = fc.array(
      fc.record({
        op: fc.constantFrom<ThresholdOp>('lt', 'lte', 'gt', 'gte'),
        value: fc.integer({ min: 0, max: 10 }),
      }),
      { minLength: 1, maxLength: 4 },
    );
    const values = fc.array(
      fc.record({
        offsetMs: fc.integer({ min: 0, max: 10 * MINUTE_MS }),
        value: fc.integer({ min: -1, max: 11 }),
      }),
      { maxLength: 200 },
    );
    fc.assert(
      fc.property(thresholds, values, (ths, vs) => {
        const streams = [...new Map(ths.map((t) => [`${t.op}:${t.value}`, stream(t.op, t.value)])).values()];
        const { buckets } = aggregateBatch(
          vs.map((v) => raw(T0 + v.offsetMs, v.value)),
          streams,
        );
        for (const s of streams) {
          const mine = buckets.filter((b) => b.storageKey === s.storageKey);
          expect(mine.reduce((sum, b) => sum + b.total, 0)).toBe(vs.length);
          expect(mine.reduce((sum, b) => sum + b.good, 0)).toBe(
            vs.filter((v) => meets(v.value, s.threshold!.op, s.threshold!.value)).length,
          );
          expect(new Set(mine.map((b) => b.minuteMs)).size).toBe(mine.length);
          for (const b of mine) expect(b.minuteMs % MINUTE_MS).toBe(0);
        }
      }),
    );
  });
});
