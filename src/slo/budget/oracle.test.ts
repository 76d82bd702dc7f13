/**
 * Both engines against an independent oracle (test/support/budget-oracle.ts, written from the
 * definitions and sharing no code with them): evaluate and IncrementalObjective share
 * assembleStatus, so comparing them with each other cannot catch a formula mistake. Also the
 * textbook figures, asserted directly.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type OracleStatus, oracleStatus } from '../../../test/support/budget-oracle.js';
import type { Duration } from '../duration.js';
import { evaluate } from './evaluate.js';
import { IncrementalObjective } from './incremental.js';
import type {
  Adjustment,
  BudgetingMethod,
  BudgetStatus,
  MinuteCounts,
  NoDataPolicy,
  ObjectiveSpec,
} from './types.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
/** A Monday, 00:00 UTC. */
const T0 = Date.UTC(2026, 0, 5);

function closeTo(actual: number | null, expected: number | null, what: string): void {
  if (actual === null || expected === null) {
    expect(actual, what).toBe(expected);
    return;
  }
  const scale = Math.max(1, Math.abs(actual), Math.abs(expected));
  expect(Math.abs(actual - expected) <= 1e-9 * scale, `${what}: ${actual} vs oracle ${expected}`).toBe(true);
}

/** An engine's status equals the oracle's, field by field (floats within 1e-9 relative). */
function expectAsOracle(actual: BudgetStatus, oracle: OracleStatus, engine: string): void {
  expect(actual.period, `${engine} period`).toEqual(oracle.period);
  closeTo(actual.sli, oracle.sli, `${engine} sli`);
  expect(actual.budget.unit, `${engine} budget.unit`).toBe(oracle.budget.unit);
  closeTo(actual.budget.total, oracle.budget.total, `${engine} budget.total`);
  closeTo(actual.budget.consumed, oracle.budget.consumed, `${engine} budget.consumed`);
  closeTo(actual.budget.remaining, oracle.budget.remaining, `${engine} budget.remaining`);
  expect(Object.keys(actual.burnRates).sort(), `${engine} burn-rate labels`).toEqual(
    Object.keys(oracle.burnRates).sort(),
  );
  for (const [label, rate] of Object.entries(oracle.burnRates)) {
    closeTo(actual.burnRates[label]!, rate, `${engine} burnRates.${label}`);
  }
  expect(Object.keys(actual.windowEvents).sort(), `${engine} windowEvents labels`).toEqual(
    Object.keys(oracle.windowEvents).sort(),
  );
  for (const [label, events] of Object.entries(oracle.windowEvents)) {
    closeTo(actual.windowEvents[label]!, events, `${engine} windowEvents.${label}`);
  }
  closeTo(actual.currentBurnRate, oracle.currentBurnRate, `${engine} currentBurnRate`);
  closeTo(actual.exhaustionAt, oracle.exhaustionAt, `${engine} exhaustionAt`);
  closeTo(actual.coverage, oracle.coverage, `${engine} coverage`);
  expect(actual.dataSufficient, `${engine} dataSufficient`).toBe(oracle.dataSufficient);
}

function spec(fields: Partial<ObjectiveSpec> & Pick<ObjectiveSpec, 'method' | 'window'>): ObjectiveSpec {
  return {
    target: 0.999,
    noData: 'good',
    adjustments: [],
    burnWindows: [],
    currentBurnWindowMs: HOUR,
    minDataCoverage: 0.5,
    ...fields,
  };
}

function rolling(count: number, unit: 'm' | 'h' | 'd'): ObjectiveSpec['window'] {
  const unitMs = { m: MIN, h: HOUR, d: DAY }[unit];
  return { kind: 'rolling', duration: { count, unit }, windowMs: count * unitMs };
}

/** The three answers at `atMs`: oracle, reference engine, incremental engine fed in time order. */
function allThree(objective: ObjectiveSpec, samples: MinuteCounts[], atMs: number) {
  const incremental = new IncrementalObjective(objective);
  const ordered = [...samples].sort((a, b) => a.ts - b.ts);
  incremental.advanceTo(Math.min(atMs, ordered[0]?.ts ?? atMs));
  for (const s of ordered) {
    incremental.advanceTo(s.ts);
    incremental.add(s.ts, s.good, s.total);
  }
  return {
    oracle: oracleStatus(objective, samples, atMs),
    evaluate: evaluate(objective, samples, atMs),
    incremental: incremental.status(atMs),
  };
}

describe('textbook figures, in the oracle and both engines', () => {
  it('has 40,320 one-minute slices in 28 days (40.32 budget minutes at 99.9%)', () => {
    const objective = spec({
      method: 'Timeslices',
      timeSliceMs: MIN,
      timeSliceTarget: 0.99,
      window: rolling(28, 'd'),
    });
    const at = T0 + 40 * DAY;
    const { oracle, evaluate: reference, incremental } = allThree(objective, [], at);
    expect(oracle.eligibleSlices).toBe(40_320);
    for (const status of [oracle, reference, incremental]) {
      expect(status.budget.total / (1 - 0.999)).toBeCloseTo(40_320, 6);
      expect(status.budget.total).toBeCloseTo(40.32, 9);
    }
  });

  it('has 43.2 budget minutes for 99.9% over 30 days, spent in 43.2 minutes at 1000×', () => {
    const objective = spec({
      method: 'Timeslices',
      timeSliceMs: MIN,
      timeSliceTarget: 0.99,
      window: rolling(30, 'd'),
    });
    const at = T0 + 40 * DAY;
    const { oracle, evaluate: reference, incremental } = allThree(objective, [], at);
    expect(oracle.eligibleSlices).toBe(43_200);
    for (const status of [oracle, reference, incremental]) {
      expect(status.budget.unit).toBe('minutes');
      expect(status.budget.total).toBeCloseTo(43.2, 9);
    }
    // Every slice bad for the last minute: burn 1/(1 − 0.999) = 1000× over a 1-minute window.
    const burning = spec({ ...objective, currentBurnWindowMs: MIN });
    const oneBad = allThree(burning, [{ ts: at - MIN, good: 0, total: 10 }], at);
    for (const status of [oneBad.oracle, oneBad.evaluate, oneBad.incremental]) {
      expect(status.currentBurnRate).toBeCloseTo(1000, 6);
      expect(status.budget.consumed).toBe(1);
      // The full budget lasts period / b = 30 days / 1000 = 43.2 minutes; one of them is spent.
      expect(status.exhaustionAt! - at).toBeCloseTo(42.2 * MIN, -1);
    }
  });

  it('spends 2% of a 30-day 99.9% budget in one hour at 14.4×', () => {
    const objective = spec({
      method: 'Occurrences',
      window: rolling(30, 'd'),
      burnWindows: [
        { label: '5m', windowMs: 5 * MIN },
        { label: '1h', windowMs: HOUR },
      ],
    });
    const at = T0 + 30 * DAY;
    // 1,000 events a minute for 30 days; the last hour fails 1.44% of them: 14.4 × (1 − 0.999).
    const samples: MinuteCounts[] = [];
    for (let ts = at - 30 * DAY; ts < at; ts += MIN) {
      samples.push({ ts, good: ts >= at - HOUR ? 985.6 : 1000, total: 1000 });
    }
    const { oracle, evaluate: reference, incremental } = allThree(objective, samples, at);
    for (const status of [oracle, reference, incremental]) {
      expect(status.burnRates['1h']).toBeCloseTo(14.4, 9);
      expect(status.burnRates['5m']).toBeCloseTo(14.4, 9);
      expect(1 - status.budget.remaining).toBeCloseTo(0.02, 12);
      expect(status.budget.total).toBeCloseTo(0.001 * 43_200_000, 6);
    }
    expectAsOracle(reference, oracle, 'evaluate');
    expectAsOracle(incremental, oracle, 'incremental');
  });
});

// ---------------------------------------------------------------------------------------------
// Random data

interface Shape {
  method: BudgetingMethod;
  sliceMin: number;
  noData: NoDataPolicy;
  target: number;
  timeSliceTarget: number;
  oneOffs: Array<{ startOffsetMin: number; lengthMin: number }>;
  recurring: boolean;
}

const shapeFields = {
  method: fc.constantFrom<BudgetingMethod>('Occurrences', 'Timeslices', 'RatioTimeslices'),
  noData: fc.constantFrom<NoDataPolicy>('excluded', 'good', 'bad'),
  target: fc.constantFrom(0.9, 0.99, 0.999, 0.9995),
  timeSliceTarget: fc.constantFrom(0.5, 0.95, 1),
  recurring: fc.boolean(),
};

function adjustmentsOf(
  shape: Shape,
  scaleMin: number,
  recurringRule: string,
  recurringMin: number,
): Adjustment[] {
  const adjustments: Adjustment[] = shape.oneOffs.map(({ startOffsetMin, lengthMin }) => ({
    kind: 'one-off',
    startMs: T0 + startOffsetMin * scaleMin * MIN,
    endMs: T0 + (startOffsetMin + lengthMin) * scaleMin * MIN,
  }));
  if (shape.recurring)
    adjustments.push({ kind: 'recurring', rrule: recurringRule, durationMs: recurringMin * MIN });
  return adjustments;
}

type Op =
  | {
      kind: 'burst';
      offsetMin: number;
      minutes: number;
      total: number;
      errorRatio: number;
      fractional: boolean;
    }
  | { kind: 'advance'; minutes: number; extraMs: number }
  | { kind: 'status' };

function opArb(maxAdvanceMin: number, maxBurstMin: number, maxOffsetMin: number): fc.Arbitrary<Op> {
  return fc.oneof(
    {
      weight: 5,
      arbitrary: fc.record({
        kind: fc.constant('burst' as const),
        // Mostly recent data (what burn windows see), some as late as the history allows.
        offsetMin: fc.oneof(fc.integer({ min: -360, max: 30 }), fc.integer({ min: -maxOffsetMin, max: 30 })),
        minutes: fc.integer({ min: 1, max: maxBurstMin }),
        total: fc.oneof(fc.constantFrom(0, 1, 3, 1000), fc.integer({ min: 0, max: 50 })),
        errorRatio: fc.oneof(fc.constantFrom(0, 0.001, 0.05, 1), fc.double({ min: 0, max: 1, noNaN: true })),
        fractional: fc.boolean(),
      }),
    },
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant('advance' as const),
        minutes: fc.oneof(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: maxAdvanceMin })),
        extraMs: fc.integer({ min: 0, max: MIN - 1 }),
      }),
    },
    { weight: 1, arbitrary: fc.constant({ kind: 'status' as const }) },
  );
}

/**
 * Replays ops on the incremental engine (clock moving forward, late and a little future data) and
 * checks every status of both engines against the oracle. `keptMin` bounds lateness so the
 * incremental engine drops nothing (what it drops is its documented limit, not a formula).
 */
function replay(
  objective: ObjectiveSpec,
  ops: readonly Op[],
  startMs: number,
  keptMin: number,
  sliceMin: number,
  historyMinutes?: number,
): void {
  const engine = new IncrementalObjective(objective, historyMinutes ? { historyMinutes } : {});
  const samples: MinuteCounts[] = [];
  let atMs = startMs;
  engine.advanceTo(atMs);
  const check = () => {
    const oracle = oracleStatus(objective, samples, atMs);
    expectAsOracle(evaluate(objective, samples, atMs), oracle, 'evaluate');
    expectAsOracle(engine.status(atMs), oracle, 'incremental');
  };
  for (const op of ops) {
    if (op.kind === 'advance') {
      atMs += op.minutes * MIN + op.extraMs;
      engine.advanceTo(atMs);
    } else if (op.kind === 'status') {
      check();
    } else {
      const clockMin = Math.floor(atMs / MIN);
      // Not older than the kept history (measured from the slice start), not beyond the future allowance.
      const first = Math.max(clockMin + op.offsetMin, clockMin - keptMin + sliceMin);
      const last = Math.min(first + op.minutes, clockMin + 59);
      for (let minute = first; minute < last; minute++) {
        // Some variety within a burst, deterministic so a failure shrinks.
        const total = op.total * (1 + (minute % 7) / 7) * (op.fractional ? 1.37 : 1);
        const bad = op.fractional ? total * op.errorRatio : Math.round(total * op.errorRatio);
        const sample = { ts: minute * MIN + (op.fractional ? 1_234 : 0), good: total - bad, total };
        samples.push(sample);
        engine.add(sample.ts, sample.good, sample.total);
      }
    }
  }
  check();
  expect(engine.droppedLateMinutes).toBe(0);
  expect(engine.droppedFutureMinutes).toBe(0);
}

describe('both engines equal the oracle on random data', () => {
  it('over short rolling and calendar windows (every method, policy and adjustment)', () => {
    const calendars: Array<{ duration: Duration; startTime: string; timeZone: string }> = [
      { duration: { count: 1, unit: 'h' }, startTime: '2026-01-04 00:30:00', timeZone: 'America/New_York' },
      { duration: { count: 2, unit: 'h' }, startTime: '2026-01-01 00:00:00', timeZone: 'Asia/Kathmandu' },
      { duration: { count: 1, unit: 'd' }, startTime: '2026-01-01 00:00:00', timeZone: 'Asia/Tokyo' },
    ];
    const shortShape = fc.record({
      ...shapeFields,
      sliceMin: fc.constantFrom(1, 2, 5, 7),
      oneOffs: fc.array(
        fc.record({
          startOffsetMin: fc.integer({ min: -100, max: 400 }),
          lengthMin: fc.integer({ min: 1, max: 40 }),
        }),
        { maxLength: 3 },
      ),
      window: fc.oneof(
        fc.record({ kind: fc.constant('rolling' as const), slices: fc.integer({ min: 3, max: 40 }) }),
        fc.record({
          kind: fc.constant('calendar' as const),
          pick: fc.integer({ min: 0, max: calendars.length - 1 }),
        }),
      ),
      burnMinutes: fc.subarray([2, 5, 10, 30, 60]),
      currentMinutes: fc.constantFrom(5, 15, 60),
    });
    fc.assert(
      fc.property(shortShape, fc.array(opArb(90, 20, 400), { minLength: 1, maxLength: 60 }), (shape, ops) => {
        const window: ObjectiveSpec['window'] =
          shape.window.kind === 'rolling'
            ? rolling(shape.window.slices * shape.sliceMin, 'm')
            : { kind: 'calendar', ...calendars[shape.window.pick]! };
        const objective = spec({
          method: shape.method,
          timeSliceMs: shape.sliceMin * MIN,
          timeSliceTarget: shape.timeSliceTarget,
          target: shape.target,
          noData: shape.noData,
          window,
          adjustments: adjustmentsOf(shape, 1, 'DTSTART:20260104T231000Z\nRRULE:FREQ=HOURLY;INTERVAL=2', 13),
          burnWindows: shape.burnMinutes.map((m) => ({ label: `${m}m`, windowMs: m * MIN })),
          currentBurnWindowMs: shape.currentMinutes * MIN,
        });
        // The history every window needs, and a day for calendar periods (so late data is kept).
        const windowsMin = [...shape.burnMinutes, shape.currentMinutes, shape.sliceMin];
        if (window.kind === 'rolling') windowsMin.push(window.windowMs / MIN);
        const calendar = window.kind === 'calendar';
        const keptMin = calendar ? 1500 : Math.max(...windowsMin);
        // A calendar clock starts at a period start: 2026-01-05 00:00 UTC is one for all three.
        replay(
          objective,
          ops,
          T0 + (calendar ? 0 : 90 * MIN + 17_000),
          keptMin,
          shape.sliceMin,
          calendar ? 1500 : undefined,
        );
      }),
      { numRuns: 60 },
    );
  }, 60_000);

  it('over 30-day windows, past the incremental ring wrapping around (and calendar months)', () => {
    const longShape = fc.record({
      ...shapeFields,
      sliceMin: fc.constantFrom(1, 5, 60),
      oneOffs: fc.array(
        // In hours from T0: maintenance of up to a day somewhere in the first seven weeks.
        fc.record({
          startOffsetMin: fc.integer({ min: -24, max: 1200 }),
          lengthMin: fc.integer({ min: 1, max: 24 }),
        }),
        { maxLength: 2 },
      ),
      calendar: fc.boolean(),
    });
    const DAY_MIN = 1440;
    fc.assert(
      fc.property(
        longShape,
        fc.array(opArb(5 * DAY_MIN, 6 * 60, 30 * DAY_MIN), { minLength: 5, maxLength: 25 }),
        (shape, ops) => {
          const window: ObjectiveSpec['window'] = shape.calendar
            ? // 2026-01-05 00:00 UTC is 09:00 in Tokyo: monthly periods from then (Jan 5, Feb 5, …).
              {
                kind: 'calendar',
                duration: { count: 1, unit: 'M' },
                startTime: '2026-01-05 09:00:00',
                timeZone: 'Asia/Tokyo',
              }
            : rolling(30, 'd');
          const objective = spec({
            method: shape.method,
            timeSliceMs: shape.sliceMin * MIN,
            timeSliceTarget: shape.timeSliceTarget,
            target: shape.target,
            noData: shape.noData,
            window,
            adjustments: adjustmentsOf(
              shape,
              60,
              'DTSTART:20260105T021500Z\nRRULE:FREQ=DAILY;INTERVAL=3',
              45,
            ),
            burnWindows: [
              { label: '5m', windowMs: 5 * MIN },
              { label: '1h', windowMs: HOUR },
              { label: '6h', windowMs: 6 * HOUR },
              { label: '3d', windowMs: 3 * DAY },
            ],
            currentBurnWindowMs: HOUR,
          });
          // Past the end of the ring (30 days + the future allowance) at least once.
          const all: Op[] = [
            ...ops,
            { kind: 'advance', minutes: 31 * DAY_MIN, extraMs: 0 },
            ...ops.slice(0, 5),
          ];
          const keptMin = shape.calendar ? 32 * DAY_MIN : 30 * DAY_MIN;
          replay(objective, all, T0, keptMin, shape.sliceMin, shape.calendar ? 32 * DAY_MIN : undefined);
        },
      ),
      // Each run compares ~10 statuses over 43,200-minute windows; a few runs cover the shapes.
      { numRuns: 8 },
    );
  }, 60_000);
});
