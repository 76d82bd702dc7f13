import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { duration } from '../duration.js';
import { evaluate } from './evaluate.js';
import type { MinuteCounts, ObjectiveSpec } from './types.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 0, 10, 0, 0);

function rolling(d: string): ObjectiveSpec['window'] {
  const parsed = duration(d);
  const units = { m: MIN, h: HOUR, d: DAY, w: 7 * DAY } as Record<string, number>;
  return { kind: 'rolling', duration: parsed, windowMs: parsed.count * units[parsed.unit]! };
}

function objective(overrides: Partial<ObjectiveSpec> = {}): ObjectiveSpec {
  return {
    target: 0.99,
    method: 'Occurrences',
    window: rolling('1h'),
    noData: 'excluded',
    adjustments: [],
    burnWindows: [{ label: '5m', windowMs: 5 * MIN }],
    currentBurnWindowMs: 5 * MIN,
    minDataCoverage: 0.9,
    ...overrides,
  };
}

/** Minutes ending just before `endMs`, oldest first, from a function of the minute index (0 = oldest). */
function minutesBefore(endMs: number, count: number, counts: (i: number) => [good: number, total: number]) {
  const minutes: MinuteCounts[] = [];
  for (let i = 0; i < count; i++) {
    const [good, total] = counts(i);
    minutes.push({ ts: endMs - (count - i) * MIN, good, total });
  }
  return minutes;
}

describe('evaluate with Occurrences', () => {
  it('spends the budget exactly when the error ratio equals the budget', () => {
    const status = evaluate(
      objective(),
      minutesBefore(T0, 10, () => [99, 100]),
      T0,
    );
    expect(status.sli).toBeCloseTo(0.99, 12);
    expect(status.budget.unit).toBe('events');
    expect(status.budget.total).toBeCloseTo(10, 9);
    expect(status.budget.consumed).toBe(10);
    expect(status.budget.remaining).toBeCloseTo(0, 9);
    expect(status.burnRates).toEqual({ '5m': expect.closeTo(1, 9), '1h': expect.closeTo(1, 9) });
    expect(status.period).toEqual({ startMs: T0 - HOUR, endMs: T0 });
  });

  it('reports a null SLI, a full budget and null burn rates when there is no data', () => {
    const status = evaluate(objective(), [], T0);
    expect(status.sli).toBeNull();
    expect(status.budget).toEqual({ unit: 'events', total: 0, consumed: 0, remaining: 1 });
    expect(status.burnRates).toEqual({ '5m': null, '1h': null });
    expect(status.exhaustionAt).toBeNull();
    expect(status.coverage).toBe(0);
    expect(status.dataSufficient).toBe(false);
  });

  it('consumes 2% of a 30-day budget after one hour at burn rate 14.4', () => {
    const spec = objective({
      target: 0.999,
      window: rolling('30d'),
      burnWindows: [{ label: '1h', windowMs: HOUR }],
      currentBurnWindowMs: HOUR,
    });
    // 100 requests a minute for 30 days; the last hour fails 1.44% of them.
    const minutes = minutesBefore(T0, 30 * 24 * 60, (i) =>
      i >= 30 * 24 * 60 - 60 ? [98.56, 100] : [100, 100],
    );
    const status = evaluate(spec, minutes, T0);
    expect(status.burnRates['1h']).toBeCloseTo(14.4, 9);
    expect(status.budget.remaining).toBeCloseTo(0.98, 9);
    // The 98% left lasts 0.98 × 30 d / 14.4.
    expect(status.exhaustionAt! - T0).toBeCloseTo((0.98 * 30 * DAY) / 14.4, -1);
  });

  it('ignores data in the minute that has not ended and floors at to the minute', () => {
    const minutes = [...minutesBefore(T0, 3, () => [100, 100]), { ts: T0, good: 0, total: 100 }];
    const status = evaluate(objective(), minutes, T0 + 30_000);
    expect(status.budget.consumed).toBe(0);
    expect(status.at).toBe(T0 + 30_000);
    expect(status.period).toEqual({ startMs: T0 - HOUR, endMs: T0 });
  });

  it('accumulates samples given for the same minute', () => {
    const status = evaluate(
      objective(),
      [
        { ts: T0 - MIN, good: 50, total: 50 },
        { ts: T0 - MIN + 5_000, good: 40, total: 50 },
      ],
      T0,
    );
    expect(status.sli).toBeCloseTo(0.9, 12);
    expect(status.budget.consumed).toBe(10);
  });

  it('ignores invalid samples', () => {
    const status = evaluate(
      objective(),
      [
        { ts: T0 - MIN, good: 11, total: 10 },
        { ts: T0 - MIN, good: -1, total: 10 },
        { ts: T0 - MIN, good: Number.NaN, total: 10 },
      ],
      T0,
    );
    expect(status.sli).toBeNull();
  });

  it('removes adjusted minutes from the SLI, the budget and the burn rates', () => {
    const minutes = minutesBefore(T0, 10, (i) => (i >= 8 ? [0, 100] : [100, 100]));
    const spec = objective({ adjustments: [{ kind: 'one-off', startMs: T0 - 2 * MIN, endMs: T0 }] });
    const status = evaluate(spec, minutes, T0);
    expect(status.sli).toBe(1);
    expect(status.budget.consumed).toBe(0);
    expect(status.burnRates['5m']).toBe(0);
    expect(status.coverage).toBe(8 / 58);
  });

  it('is not affected by the no-data policy', () => {
    const minutes = minutesBefore(T0, 10, (i) => (i % 2 ? [90, 100] : [100, 100]));
    const policies = (['excluded', 'good', 'bad'] as const).map((noData) =>
      evaluate(objective({ noData }), minutes, T0),
    );
    expect(policies[1]).toEqual(policies[0]);
    expect(policies[2]).toEqual(policies[0]);
  });

  it('counts data coverage over elapsed, non-excluded minutes', () => {
    const spec = objective({ window: rolling('10m') });
    expect(
      evaluate(
        spec,
        minutesBefore(T0, 9, () => [1, 1]),
        T0,
      ),
    ).toMatchObject({ coverage: 0.9, dataSufficient: true });
    expect(
      evaluate(
        spec,
        minutesBefore(T0, 8, () => [1, 1]),
        T0,
      ),
    ).toMatchObject({ coverage: 0.8, dataSufficient: false });
    const adjusted = {
      ...spec,
      adjustments: [{ kind: 'one-off' as const, startMs: T0 - 10 * MIN, endMs: T0 - 8 * MIN }],
    };
    expect(
      evaluate(
        adjusted,
        minutesBefore(T0, 8, () => [1, 1]),
        T0,
      ),
    ).toMatchObject({ coverage: 1 });
  });

  it('puts exhaustion at `at` once the budget is overspent', () => {
    const status = evaluate(
      objective(),
      minutesBefore(T0, 10, () => [50, 100]),
      T0,
    );
    expect(status.budget.remaining).toBeLessThan(0);
    expect(status.exhaustionAt).toBe(T0);
  });
});

describe('evaluate with Timeslices', () => {
  const slices = (overrides: Partial<ObjectiveSpec> = {}) =>
    objective({
      method: 'Timeslices',
      timeSliceTarget: 0.95,
      timeSliceMs: MIN,
      target: 0.9,
      window: rolling('10m'),
      ...overrides,
    });

  it('has 20,160 slices and 1008 minutes of budget in the OpenSLO 2-week, 95%, 1-minute example', () => {
    const spec = slices({ target: 0.95, window: rolling('2w') });
    const status = evaluate(
      spec,
      minutesBefore(T0, 20_160, () => [1, 1]),
      T0,
    );
    expect(status.budget.unit).toBe('minutes');
    expect(status.budget.total).toBeCloseTo(1008, 9);
    expect(status.budget.total / (1 - 0.95)).toBeCloseTo(20_160, 6);
    expect(status.sli).toBe(1);
  });

  it.each([
    [999, 1000, 0.999],
    [95, 100, 0.95],
    [9, 10, 0.9],
  ])(
    'counts a slice with %d good of %d as good when the slice target is exactly %d',
    (good, total, target) => {
      const status = evaluate(slices({ timeSliceTarget: target }), [{ ts: T0 - MIN, good, total }], T0);
      expect(status.budget.consumed).toBe(0);
      expect(status.sli).toBe(1);
    },
  );

  it.each([
    ['excluded', 0.6, 0.5, -3],
    ['good', 0.8, 1, -1],
    ['bad', 0.3, 1, -6],
  ] as const)('applies the %s no-data policy to missing slices', (noData, sli, budgetMinutes, remaining) => {
    // Ten 1-minute slices: 3 good, 2 bad, 5 without data.
    const minutes = minutesBefore(T0, 5, (i) => (i < 3 ? [100, 100] : [0, 100]));
    const status = evaluate(slices({ noData }), minutes, T0);
    expect(status.sli).toBeCloseTo(sli, 12);
    expect(status.budget.total).toBeCloseTo(budgetMinutes, 12);
    expect(status.budget.remaining).toBeCloseTo(remaining, 9);
  });

  it('treats a slice whose total is 0 as missing', () => {
    const status = evaluate(slices({ noData: 'bad' }), [{ ts: T0 - MIN, good: 0, total: 0 }], T0);
    expect(status.budget.consumed).toBe(10);
  });

  it('counts only complete slices, on a grid aligned to the epoch for rolling windows', () => {
    const spec = slices({ timeSliceMs: 5 * MIN, window: rolling('20m'), burnWindows: [], noData: 'good' });
    // At T0 + 3 min the slice [T0, T0 + 5 min) has not ended: its bad minute does not count yet.
    const minutes = [...minutesBefore(T0, 5, () => [1, 1]), { ts: T0 + MIN, good: 0, total: 1 }];
    const status = evaluate(spec, minutes, T0 + 3 * MIN);
    expect(status.budget.consumed).toBe(0);
    expect(status.budget.total).toBeCloseTo(0.1 * 5 * 4, 12);
    expect(evaluate(spec, minutes, T0 + 5 * MIN).budget.consumed).toBe(5);
  });

  it('plans the whole calendar period, future slices included', () => {
    const spec = slices({
      window: {
        kind: 'calendar',
        duration: duration('1d'),
        startTime: '2026-01-01 00:00:00',
        timeZone: 'UTC',
      },
      burnWindows: [],
      currentBurnWindowMs: HOUR,
    });
    const status = evaluate(
      spec,
      minutesBefore(T0 + 12 * HOUR, 720, () => [1, 1]),
      T0 + 12 * HOUR,
    );
    expect(status.budget.total).toBeCloseTo(0.1 * 1440, 9);
    expect(status.coverage).toBe(1);
    expect(status.period).toEqual({ startMs: T0, endMs: T0 + DAY });
  });

  it('restarts the slice grid at each calendar period and ignores a remainder shorter than a slice', () => {
    const spec = slices({
      timeSliceMs: 7 * MIN,
      noData: 'good',
      window: {
        kind: 'calendar',
        duration: duration('1h'),
        startTime: '2026-01-01 00:00:00',
        timeZone: 'UTC',
      },
      burnWindows: [],
      currentBurnWindowMs: HOUR,
    });
    // 60 minutes = 8 slices of 7 minutes and 4 minutes that belong to no slice.
    const status = evaluate(spec, [{ ts: T0 + 57 * MIN, good: 0, total: 1 }], T0 + 59 * MIN);
    expect(status.budget.total).toBeCloseTo(0.1 * 8 * 7, 9);
    expect(status.budget.consumed).toBe(0);
  });

  it('removes slices fully inside adjustments from the budget, future ones included', () => {
    const spec = slices({
      window: {
        kind: 'calendar',
        duration: duration('1h'),
        startTime: '2026-01-01 00:00:00',
        timeZone: 'UTC',
      },
      adjustments: [
        { kind: 'one-off', startMs: T0 + 50 * MIN, endMs: T0 + 60 * MIN },
        { kind: 'one-off', startMs: T0 + 5 * MIN + 1, endMs: T0 + 7 * MIN },
      ],
      burnWindows: [],
      currentBurnWindowMs: HOUR,
    });
    const status = evaluate(
      spec,
      minutesBefore(T0 + 10 * MIN, 10, () => [1, 1]),
      T0 + 10 * MIN,
    );
    expect(status.budget.total).toBeCloseTo(0.1 * 49, 9);
  });
});

describe('evaluate with recurring adjustments', () => {
  it('removes the weekly Sunday 02:00–04:00 Asia/Tokyo maintenance from a January budget in Tokyo', () => {
    const spec = objective({
      method: 'Timeslices',
      timeSliceTarget: 0.99,
      timeSliceMs: MIN,
      target: 0.999,
      noData: 'good',
      window: {
        kind: 'calendar',
        duration: duration('1M'),
        startTime: '2026-01-01 00:00:00',
        timeZone: 'Asia/Tokyo',
      },
      adjustments: [
        {
          kind: 'recurring',
          rrule: 'DTSTART;TZID=Asia/Tokyo:20260104T020000\nRRULE:FREQ=WEEKLY;BYDAY=SU',
          durationMs: 2 * HOUR,
        },
      ],
      burnWindows: [{ label: '1h', windowMs: HOUR }],
      currentBurnWindowMs: HOUR,
    });
    // Sunday 11 January, 02:30 JST: inside the second maintenance; failures there do not count.
    const atMs = Date.parse('2026-01-10T17:30:00Z');
    const status = evaluate(
      spec,
      minutesBefore(atMs, 60, () => [0, 10]),
      atMs,
    );
    expect(status.period).toEqual({
      startMs: Date.parse('2025-12-31T15:00:00Z'),
      endMs: Date.parse('2026-01-31T15:00:00Z'),
    });
    // 31 days of minutes less four Sundays × 120 minutes (4, 11, 18, 25 January).
    expect(status.budget.total).toBeCloseTo((1 - 0.999) * (31 * 1_440 - 4 * 120), 6);
    // Only 01:30–02:00 JST failed before the maintenance began: 30 bad slices.
    expect(status.budget.consumed).toBe(30);
    expect(status.burnRates['1h']).toBeCloseTo(1 / (1 - 0.999), 6);
  });
});

describe('evaluate with RatioTimeslices', () => {
  it('averages slice ratios and consumes 1 − ratio per slice', () => {
    const spec = objective({
      method: 'RatioTimeslices',
      timeSliceMs: MIN,
      target: 0.5,
      window: rolling('3m'),
    });
    const status = evaluate(
      spec,
      minutesBefore(T0, 3, (i) => [[10, 5, 3][i]!, [10, 10, 4][i]!]),
      T0,
    );
    expect(status.sli).toBeCloseTo(0.75, 12);
    expect(status.budget.consumed).toBeCloseTo(0.75, 12);
    expect(status.budget.total).toBeCloseTo(1.5, 12);
    expect(status.budget.remaining).toBeCloseTo(0.5, 12);
  });

  it('counts missing slices as ratio 1 under the good policy and 0 under the bad policy', () => {
    const base = objective({
      method: 'RatioTimeslices',
      timeSliceMs: MIN,
      target: 0.5,
      window: rolling('2m'),
    });
    const minutes = [{ ts: T0 - MIN, good: 1, total: 2 }];
    expect(evaluate({ ...base, noData: 'good' }, minutes, T0).sli).toBeCloseTo(0.75, 12);
    expect(evaluate({ ...base, noData: 'bad' }, minutes, T0).sli).toBeCloseTo(0.25, 12);
    expect(evaluate({ ...base, noData: 'excluded' }, minutes, T0).sli).toBeCloseTo(0.5, 12);
  });
});

describe('evaluate properties', () => {
  const method = fc.constantFrom('Occurrences' as const, 'Timeslices' as const, 'RatioTimeslices' as const);
  const noData = fc.constantFrom('excluded' as const, 'good' as const, 'bad' as const);
  const counts = fc.array(fc.tuple(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 20 })), {
    minLength: 30,
    maxLength: 30,
  });

  it('never increases the remaining budget when bad events are added', () => {
    fc.assert(
      fc.property(
        method,
        noData,
        counts,
        fc.integer({ min: 0, max: 29 }),
        fc.integer({ min: 1, max: 5 }),
        (m, nd, data, at, bad) => {
          const spec = objective({
            method: m,
            noData: nd,
            timeSliceMs: 2 * MIN,
            timeSliceTarget: 0.8,
            window: rolling('30m'),
          });
          const minutes = minutesBefore(T0, 30, (i) => [data[i]![0], data[i]![0] + data[i]![1]]);
          const before = evaluate(spec, minutes, T0).budget.remaining;
          const after = evaluate(spec, [...minutes, { ts: T0 - (30 - at) * MIN, good: 0, total: bad }], T0)
            .budget.remaining;
          expect(after).toBeLessThanOrEqual(before + 1e-12);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('gives the same Occurrences results when counts are split into more samples per minute', () => {
    fc.assert(
      fc.property(counts, fc.integer({ min: 2, max: 4 }), (data, parts) => {
        const spec = objective({ window: rolling('30m') });
        const minutes = minutesBefore(T0, 30, (i) => [data[i]![0], data[i]![0] + data[i]![1]]);
        const split = minutes.flatMap(({ ts, good, total }) => {
          const share = (n: number, k: number) =>
            k === 0 ? n - (parts - 1) * Math.floor(n / parts) : Math.floor(n / parts);
          return Array.from({ length: parts }, (_, k) => ({
            ts: ts + k * 1000,
            good: share(good, k),
            total: share(good, k) + share(total - good, k),
          }));
        });
        expect(evaluate(spec, split, T0)).toEqual(evaluate(spec, minutes, T0));
      }),
      { numRuns: 100 },
    );
  });

  it('gives the same Occurrences period and aligned burn rates when coarse counts are spread over their minutes', () => {
    fc.assert(
      fc.property(counts, (data) => {
        const spec = objective({
          window: rolling('30m'),
          burnWindows: [
            { label: '5m', windowMs: 5 * MIN },
            { label: '10m', windowMs: 10 * MIN },
          ],
        });
        // Each 5-minute block's counts placed on its start minute, versus spread over its five minutes.
        const coarse = minutesBefore(T0, 6, (b) => [5 * data[b]![0], 5 * (data[b]![0] + data[b]![1])]).map(
          (m, b) => ({
            ...m,
            ts: T0 - (6 - b) * 5 * MIN,
          }),
        );
        const fine = coarse.flatMap(({ ts, good, total }) =>
          Array.from({ length: 5 }, (_, k) => ({ ts: ts + k * MIN, good: good / 5, total: total / 5 })),
        );
        const a = evaluate(spec, coarse, T0);
        const b = evaluate(spec, fine, T0);
        expect(b.sli).toEqual(a.sli);
        expect(b.budget).toEqual(a.budget);
        expect(b.burnRates).toEqual(a.burnRates);
        expect(b.exhaustionAt).toEqual(a.exhaustionAt);
      }),
      { numRuns: 100 },
    );
  });
});
