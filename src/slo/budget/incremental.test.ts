import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Duration, duration } from '../duration.js';
import { ColdMinutes } from './cold-minutes.js';
import { evaluate } from './evaluate.js';
import { IncrementalObjective, type IncrementalOptions } from './incremental.js';
import type {
  Adjustment,
  BudgetingMethod,
  BudgetStatus,
  MinuteCounts,
  NoDataPolicy,
  ObjectiveSpec,
} from './types.js';

const MIN = 60_000;
/** 2026-03-08 05:00 UTC: midnight in New York, two hours before the spring-forward jump. */
const T0 = Date.UTC(2026, 2, 8, 5, 0);

function closeTo(actual: number | null, expected: number | null, what: string): void {
  if (actual === null || expected === null) {
    expect(actual, what).toBe(expected);
    return;
  }
  if (actual === expected) return;
  const scale = Math.max(1, Math.abs(actual), Math.abs(expected));
  expect(Math.abs(actual - expected) <= 1e-9 * scale, `${what}: ${actual} vs ${expected}`).toBe(true);
}

function expectSameStatus(actual: BudgetStatus, expected: BudgetStatus): void {
  expect(actual.at).toBe(expected.at);
  expect(actual.period).toEqual(expected.period);
  closeTo(actual.sli, expected.sli, 'sli');
  expect(actual.budget.unit).toBe(expected.budget.unit);
  closeTo(actual.budget.total, expected.budget.total, 'budget.total');
  closeTo(actual.budget.consumed, expected.budget.consumed, 'budget.consumed');
  closeTo(actual.budget.remaining, expected.budget.remaining, 'budget.remaining');
  expect(Object.keys(actual.burnRates).sort()).toEqual(Object.keys(expected.burnRates).sort());
  for (const label of Object.keys(expected.burnRates)) {
    closeTo(actual.burnRates[label]!, expected.burnRates[label]!, `burnRates.${label}`);
  }
  closeTo(actual.currentBurnRate, expected.currentBurnRate, 'currentBurnRate');
  closeTo(actual.exhaustionAt, expected.exhaustionAt, 'exhaustionAt');
  expect(actual.coverage).toBe(expected.coverage);
  expect(actual.dataSufficient).toBe(expected.dataSufficient);
}

interface SpecShape {
  method: BudgetingMethod;
  sliceMin: number;
  window: { kind: 'rolling'; slices: number } | { kind: 'calendar'; pick: number };
  burnMinutes: number[];
  currentMinutes: number;
  noData: NoDataPolicy;
  target: number;
  timeSliceTarget: number;
  oneOffs: Array<{ startOffsetMs: number; lengthMs: number }>;
  recurring: boolean;
}

const CALENDARS: Array<{ duration: Duration; startTime: string; timeZone: string }> = [
  { duration: duration('1h'), startTime: '2026-03-08 00:30:00', timeZone: 'America/New_York' },
  { duration: duration('2h'), startTime: '2026-01-01 00:00:00', timeZone: 'Asia/Kathmandu' },
  { duration: duration('1d'), startTime: '2026-03-01 00:00:00', timeZone: 'America/New_York' },
];

function buildSpec(shape: SpecShape): ObjectiveSpec {
  const adjustments: Adjustment[] = shape.oneOffs.map(({ startOffsetMs, lengthMs }) => ({
    kind: 'one-off',
    startMs: T0 + startOffsetMs,
    endMs: T0 + startOffsetMs + lengthMs,
  }));
  if (shape.recurring) {
    adjustments.push({
      kind: 'recurring',
      rrule: 'DTSTART;TZID=America/New_York:20260307T231000\nRRULE:FREQ=HOURLY;INTERVAL=2',
      durationMs: 13 * MIN,
    });
  }
  const window: ObjectiveSpec['window'] =
    shape.window.kind === 'rolling'
      ? {
          kind: 'rolling',
          duration: { count: shape.window.slices * shape.sliceMin, unit: 'm' },
          windowMs: shape.window.slices * shape.sliceMin * MIN,
        }
      : { kind: 'calendar', ...CALENDARS[shape.window.pick]! };
  return {
    target: shape.target,
    method: shape.method,
    timeSliceTarget: shape.timeSliceTarget,
    timeSliceMs: shape.sliceMin * MIN,
    window,
    noData: shape.noData,
    adjustments,
    burnWindows: shape.burnMinutes.map((m) => ({ label: `${m}m`, windowMs: m * MIN })),
    currentBurnWindowMs: shape.currentMinutes * MIN,
    minDataCoverage: 0.5,
  };
}

const specShape: fc.Arbitrary<SpecShape> = fc.record({
  method: fc.constantFrom<BudgetingMethod>('Occurrences', 'Timeslices', 'RatioTimeslices'),
  sliceMin: fc.constantFrom(1, 2, 3, 5, 7),
  window: fc.oneof(
    fc.record({ kind: fc.constant('rolling' as const), slices: fc.integer({ min: 3, max: 40 }) }),
    fc.record({
      kind: fc.constant('calendar' as const),
      pick: fc.integer({ min: 0, max: CALENDARS.length - 1 }),
    }),
  ),
  burnMinutes: fc.subarray([2, 5, 10, 30, 60]),
  currentMinutes: fc.constantFrom(5, 15, 60),
  noData: fc.constantFrom<NoDataPolicy>('excluded', 'good', 'bad'),
  target: fc.constantFrom(0.9, 0.95, 0.99, 0.999),
  timeSliceTarget: fc.constantFrom(0.5, 0.9, 1),
  oneOffs: fc.array(
    fc.record({
      startOffsetMs: fc.integer({ min: -120 * MIN, max: 300 * MIN }),
      lengthMs: fc.integer({ min: 1, max: 40 * MIN }),
    }),
    { maxLength: 3 },
  ),
  recurring: fc.boolean(),
});

type Op =
  | { kind: 'add'; offsetMin: number; total: number; goodFraction: number; integer: boolean }
  | { kind: 'advance'; minutes: number; extraMs: number }
  | { kind: 'status' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('add' as const),
      offsetMin: fc.integer({ min: -400, max: 59 }),
      // Realistic counts: subnormal totals (1e-308) would only test float underflow.
      total: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.double({ min: 1e-3, max: 40, noNaN: true })),
      goodFraction: fc.oneof(fc.constantFrom(0, 0.5, 0.9, 1), fc.double({ min: 0, max: 1, noNaN: true })),
      integer: fc.boolean(),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('advance' as const),
      minutes: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 90 })),
      extraMs: fc.integer({ min: 0, max: MIN - 1 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'status' as const }) },
);

/** Longest lateness the engine keeps for this spec, so no sample is dropped. */
function keptLatenessMin(spec: ObjectiveSpec, shape: SpecShape): number {
  const windows = [...shape.burnMinutes, shape.currentMinutes, shape.sliceMin];
  if (spec.window.kind === 'rolling') windows.push(spec.window.windowMs / MIN);
  return Math.max(...windows) - shape.sliceMin + 1;
}

/** Replays the ops on an engine and checks every status against `evaluate` on the same samples. */
function replay(spec: ObjectiveSpec, ops: readonly Op[], maxLatenessMin: number): IncrementalObjective {
  const engine = new IncrementalObjective(spec);
  const samples: MinuteCounts[] = [];
  let atMs = T0 + 90 * MIN + 17_000;
  engine.advanceTo(atMs);
  const check = () => expectSameStatus(engine.status(atMs), evaluate(spec, samples, atMs));
  check();
  for (const op of ops) {
    if (op.kind === 'add') {
      const clockMin = Math.floor(atMs / MIN);
      const offsetMin = Math.max(op.offsetMin, -maxLatenessMin);
      const total = op.integer ? Math.round(op.total) : op.total;
      const good = op.integer ? Math.round(total * op.goodFraction) : total * op.goodFraction;
      const ts = (clockMin + offsetMin) * MIN + (op.integer ? 0 : 1234);
      samples.push({ ts, good, total });
      engine.add(ts, good, total);
    } else if (op.kind === 'advance') {
      atMs += op.minutes * MIN + op.extraMs;
      engine.advanceTo(atMs);
    } else {
      check();
    }
  }
  check();
  expect(engine.droppedLateMinutes).toBe(0);
  expect(engine.droppedFutureMinutes).toBe(0);
  return engine;
}

type SetOp =
  | { kind: 'add' | 'set'; offsetMin: number; total: number; goodFraction: number; integer: boolean }
  | { kind: 'advance'; minutes: number; extraMs: number }
  | { kind: 'status' };

/** A clock move: a few minutes, or up to an hour and a half (past the engine's 60-minute step limit). */
const advanceOpArb = fc.record({
  kind: fc.constant('advance' as const),
  minutes: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 90 })),
  extraMs: fc.integer({ min: 0, max: MIN - 1 }),
});

const countsArb = {
  offsetMin: fc.integer({ min: -400, max: 59 }),
  total: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.double({ min: 1e-3, max: 40, noNaN: true })),
  goodFraction: fc.oneof(fc.constantFrom(0, 0.5, 0.9, 1), fc.double({ min: 0, max: 1, noNaN: true })),
  integer: fc.boolean(),
};

const setOpArb: fc.Arbitrary<SetOp> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('add' as const), ...countsArb }) },
  // Small offsets make sets often hit a minute that already has data (the re-read case).
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('set' as const),
      ...countsArb,
      offsetMin: fc.oneof(fc.integer({ min: -12, max: 3 }), countsArb.offsetMin),
    }),
  },
  { weight: 3, arbitrary: advanceOpArb },
  { weight: 1, arbitrary: fc.constant({ kind: 'status' as const }) },
);

/** Replays adds and sets; `evaluate` sees one sample per minute holding that minute's final value. */
function replayWithSets(
  spec: ObjectiveSpec,
  ops: readonly SetOp[],
  maxLatenessMin: number,
  options: IncrementalOptions = {},
): void {
  const engine = new IncrementalObjective(spec, options);
  const perMinute = new Map<number, MinuteCounts>();
  let atMs = T0 + 90 * MIN + 17_000;
  engine.advanceTo(atMs);
  const check = () => expectSameStatus(engine.status(atMs), evaluate(spec, [...perMinute.values()], atMs));
  for (const op of ops) {
    if (op.kind === 'add' || op.kind === 'set') {
      const clockMin = Math.floor(atMs / MIN);
      const minute = clockMin + Math.max(op.offsetMin, -maxLatenessMin);
      const total = op.integer ? Math.round(op.total) : op.total;
      const good = op.integer ? Math.round(total * op.goodFraction) : total * op.goodFraction;
      const ts = minute * MIN + (op.integer ? 0 : 1234);
      const before = perMinute.get(minute);
      if (op.kind === 'set' || !before) {
        perMinute.set(minute, { ts: minute * MIN, good, total });
        engine.set(ts, good, total);
      } else {
        // The engine's ring adds in the same order, so the final values are the same bits.
        perMinute.set(minute, { ts: minute * MIN, good: before.good + good, total: before.total + total });
        engine.add(ts, good, total);
      }
    } else if (op.kind === 'advance') {
      atMs += op.minutes * MIN + op.extraMs;
      engine.advanceTo(atMs);
    } else {
      check();
    }
  }
  check();
  expect(engine.droppedLateMinutes).toBe(0);
  expect(engine.droppedFutureMinutes).toBe(0);
}

type TieredOp =
  | {
      kind: 'set';
      offsetMin: number;
      total: number;
      goodFraction: number;
      integer: boolean;
      inFlight: boolean;
    }
  | { kind: 'deliver' }
  | { kind: 'restart' }
  | { kind: 'advance'; minutes: number; extraMs: number }
  | { kind: 'status' };

const tieredOpArb: fc.Arbitrary<TieredOp> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('set' as const),
      ...countsArb,
      offsetMin: fc.oneof(fc.integer({ min: -12, max: 3 }), fc.integer({ min: -1600, max: 59 })),
      inFlight: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'deliver' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'restart' as const }) },
  { weight: 3, arbitrary: advanceOpArb },
  { weight: 1, arbitrary: fc.constant({ kind: 'status' as const }) },
);

function rowsOf(
  store: ReadonlyMap<number, { good: number; total: number }>,
  range: { from: number; to: number },
) {
  const rows = [];
  for (let minute = range.from; minute < range.to; minute++) {
    const counts = store.get(minute);
    if (counts) rows.push({ minute, ...counts });
  }
  return rows;
}

/**
 * A store of minutes (the sli_minutes table) and a tiered engine fed as the evaluator feeds it:
 * each change is written to the store first and reaches the engine later (at once, or after other
 * operations: a change "in flight", which the store already shows to cold reads); before every
 * advance the engine's `coldReads` are loaded from the store, and only those. Whenever nothing is
 * in flight, the status equals `evaluate` over the store.
 */
function replayTiered(spec: ObjectiveSpec, ops: readonly TieredOp[], options: IncrementalOptions): void {
  let engine = new IncrementalObjective(spec, options);
  const store = new Map<number, { good: number; total: number }>();
  const inFlight = new Set<number>();
  let atMs = T0 + 90 * MIN + 17_000;
  const load = () => {
    const cold = new ColdMinutes();
    for (const range of engine.coldReads(atMs)) cold.put(range, rowsOf(store, range));
    return cold;
  };
  const deliver = () => {
    for (const minute of inFlight) {
      const counts = store.get(minute)!;
      engine.set(minute * MIN, counts.good, counts.total);
    }
    inFlight.clear();
  };
  const check = () => {
    deliver();
    const status = engine.status(atMs, load());
    const samples = [...store].map(([minute, c]) => ({ ts: minute * MIN, ...c }));
    expectSameStatus(status, evaluate(spec, samples, atMs));
  };
  engine.advanceTo(atMs);
  for (const op of ops) {
    if (op.kind === 'set') {
      const minute = Math.floor(atMs / MIN) + op.offsetMin;
      const total = op.integer ? Math.round(op.total) : op.total;
      const good = op.integer ? Math.round(total * op.goodFraction) : total * op.goodFraction;
      store.set(minute, { good, total });
      inFlight.add(minute);
      if (!op.inFlight) deliver();
    } else if (op.kind === 'deliver') {
      deliver();
    } else if (op.kind === 'restart') {
      // A new process takes the last checkpoint (only a ready engine has one) and goes on.
      const saved = engine.checkpoint();
      if (saved) {
        engine = new IncrementalObjective(spec, options);
        engine.restore(Float64Array.from(saved));
      }
    } else if (op.kind === 'advance') {
      atMs += op.minutes * MIN + op.extraMs;
      engine.advanceTo(atMs, load());
    } else {
      check();
    }
  }
  check();
}

/** One-hour rolling Occurrences objective at 99% with a 5-minute burn window: small enough to reason about by hand. */
/** A one-hour rolling Occurrences spec at 99% with a 5-minute burn window, and any field changed. */
function smallSpec(overrides: Partial<SpecShape> = {}) {
  return buildSpec({
    method: 'Occurrences',
    sliceMin: 1,
    window: { kind: 'rolling', slices: 60 },
    burnMinutes: [5],
    currentMinutes: 5,
    noData: 'excluded',
    target: 0.99,
    timeSliceTarget: 1,
    oneOffs: [],
    recurring: false,
    ...overrides,
  });
}

describe('IncrementalObjective', () => {
  it('equals evaluate from scratch for random data, methods, windows, adjustments, late and out-of-order minutes', () => {
    fc.assert(
      fc.property(specShape, fc.array(opArb, { minLength: 1, maxLength: 120 }), (shape, ops) => {
        const spec = buildSpec(shape);
        replay(spec, ops, keptLatenessMin(spec, shape));
      }),
      { numRuns: 150 },
    );
    // 150 random replays take about 2 s on a quiet machine; leave room on a loaded one.
  }, 30_000);

  it('equals evaluate over the final per-minute values for any sequence of set, add and advance', () => {
    fc.assert(
      fc.property(specShape, fc.array(setOpArb, { minLength: 1, maxLength: 120 }), (shape, ops) => {
        const spec = buildSpec(shape);
        replayWithSets(spec, ops, keptLatenessMin(spec, shape));
      }),
      { numRuns: 150 },
    );
  });

  it('a tiered engine (hotMinutes) reading cold minutes from a store equals evaluate, changes in flight included', () => {
    fc.assert(
      fc.property(
        specShape,
        fc.array(tieredOpArb, { minLength: 1, maxLength: 120 }),
        fc.integer({ min: 1, max: 40 }),
        fc.double({ min: 0, max: 0.999, noNaN: true }),
        (shape, ops, hotMinutes, rebuildPhase) => {
          const spec = buildSpec(shape);
          // Calendar periods keep their whole period, as the evaluator's engines do.
          const historyMinutes = spec.window.kind === 'calendar' ? 1500 : undefined;
          replayTiered(spec, ops, { hotMinutes, rebuildPhase, historyMinutes });
        },
      ),
      { numRuns: 120 },
    );
  }, 60_000);

  it('refuses a checkpoint of another engine and keeps its own state', () => {
    const spec = smallSpec({ window: { kind: 'rolling', slices: 600 } });
    const engine = new IncrementalObjective(spec, { hotMinutes: 30 });
    expect(engine.checkpoint()).toBeNull(); // not started
    const other = new IncrementalObjective(smallSpec({ window: { kind: 'rolling', slices: 300 } }), {
      hotMinutes: 30,
    });
    other.advanceTo(T0, new ColdMinutes());
    const cold = new ColdMinutes();
    cold.put(other.coldReads(T0)[0]!, []);
    other.advanceTo(T0, cold);
    const saved = other.checkpoint()!;
    expect(() => engine.restore(saved)).toThrow(/other windows/);
    expect(() => engine.restore(saved.subarray(0, 10))).toThrow(RangeError);
    const wrongFormat = Float64Array.from(saved);
    wrongFormat[0] = 99;
    expect(() => engine.restore(wrongFormat)).toThrow(/format/);
    expect(engine.checkpoint()).toBeNull();
  });

  it('a tiered engine holds only its hot minutes and reads nothing it did not list in coldReads', () => {
    const spec = smallSpec({ window: { kind: 'rolling', slices: 43_200 }, burnMinutes: [5, 60, 360, 1440] });
    const engine = new IncrementalObjective(spec, { hotMinutes: 120 });
    expect(engine.isTiered).toBe(true);
    expect(engine.stateBytes()).toBe((120 + 60) * 2 * 8);
    engine.advanceTo(T0);
    expect(engine.ready).toBe(false);
    expect(() => engine.status(T0)).toThrow(RangeError);
    const store = new Map<number, { good: number; total: number }>();
    for (let m = T0 / MIN - 43_200; m < T0 / MIN + 30; m++) store.set(m, { good: 99, total: 100 });
    const load = (atMs: number) => {
      const cold = new ColdMinutes();
      for (const range of engine.coldReads(atMs)) cold.put(range, rowsOf(store, range));
      return cold;
    };
    for (let m = T0 / MIN - 120; m < T0 / MIN; m++) engine.set(m * MIN, 99, 100);
    const first = engine.coldReads(T0);
    expect(first.reduce((n, r) => n + r.to - r.from, 0)).toBe(43_200 - 120);
    engine.advanceTo(T0, load(T0));
    expect(engine.ready).toBe(true);
    for (let i = 1; i <= 30; i++) {
      engine.set(T0 + (i - 1) * MIN, 99, 100);
      // One stored minute per cold window (6h, 1d, 30d) per minute of clock.
      expect(engine.coldReads(T0 + i * MIN)).toHaveLength(3);
      const status = engine.status(T0 + i * MIN, load(T0 + i * MIN));
      expect(status.sli).toBeCloseTo(0.99, 12);
    }
    expect(() => engine.advanceTo(T0 + 31 * MIN)).toThrow(/cold and was not loaded/);
  });

  it('keeps late data of the whole calendar period when asked to keep that much history', () => {
    fc.assert(
      fc.property(
        specShape.filter((shape) => shape.window.kind === 'calendar'),
        fc.array(setOpArb, { minLength: 1, maxLength: 120 }),
        (shape, ops) => {
          // 1500 minutes outlast the longest test period (a 25-hour New York day) and every offset.
          replayWithSets(buildSpec(shape), ops, 400, { historyMinutes: 1500 });
        },
      ),
      { numRuns: 100 },
    );
  });

  it('changes nothing when a minute is set to the value it already holds', () => {
    const spec = smallSpec({
      method: 'Timeslices',
      sliceMin: 5,
      window: { kind: 'rolling', slices: 12 },
      burnMinutes: [5, 30],
      timeSliceTarget: 0.9,
    });
    const engine = new IncrementalObjective(spec);
    engine.advanceTo(T0);
    engine.set(T0 - 7 * MIN, 3, 10);
    const once = engine.status(T0 + 3 * MIN);
    for (let i = 0; i < 5; i++) engine.set(T0 - 7 * MIN, 3, 10);
    expect(engine.status(T0 + 3 * MIN)).toEqual(once);
    engine.set(T0 - 7 * MIN, 10, 10);
    expect(engine.status(T0 + 3 * MIN).budget.consumed).toBe(0);
  });

  it('lowers a minute that is set to smaller counts, unlike add', () => {
    const spec = smallSpec();
    const engine = new IncrementalObjective(spec);
    engine.advanceTo(T0);
    engine.set(T0 - MIN, 0, 10);
    engine.set(T0 - MIN, 4, 5);
    const status = engine.status(T0);
    expect(status.budget.consumed).toBe(1);
    expect(status.sli).toBe(0.8);
    engine.set(T0 - MIN, 0, 0);
    expect(engine.status(T0).sli).toBeNull();
    expect(engine.status(T0).burnRates['5m']).toBeNull();
  });

  it('stays equal to evaluate over many window lengths of fractional counts with spikes', () => {
    const spec = smallSpec({ burnMinutes: [5, 30], target: 0.999 });
    const engine = new IncrementalObjective(spec);
    const samples: MinuteCounts[] = [];
    let atMs = T0;
    engine.advanceTo(atMs);
    for (let i = 0; i < 2_000; i++) {
      const total = i % 97 === 0 ? 1e9 + 0.1 : 0.1 + ((i * 7919) % 13) / 10;
      const good = total * (i % 11 === 0 ? 0.3 : 0.999);
      samples.push({ ts: atMs, good, total });
      engine.add(atMs, good, total);
      atMs += MIN;
      if (i % 50 === 49) expectSameStatus(engine.status(atMs), evaluate(spec, samples, atMs));
    }
  });

  it('drops and counts samples older than the kept history', () => {
    const spec = smallSpec();
    const engine = new IncrementalObjective(spec);
    engine.advanceTo(T0);
    engine.add(T0 - 61 * MIN, 0, 10);
    engine.add(T0 - 60 * MIN, 0, 10);
    expect(engine.droppedLateMinutes).toBe(1);
    expect(engine.status(T0).budget.consumed).toBe(10);
  });

  it('drops a late sample whose time slice started before the kept history', () => {
    const spec = smallSpec({
      method: 'Timeslices',
      sliceMin: 5,
      window: { kind: 'rolling', slices: 12 },
      burnMinutes: [],
    });
    const engine = new IncrementalObjective(spec);
    engine.advanceTo(T0 + 2 * MIN);
    // History is the last 60 minutes; minute T0−58 is inside it but its slice starts at T0−60.
    engine.add(T0 - 58 * MIN, 0, 10);
    engine.add(T0 - 55 * MIN, 0, 10);
    expect(engine.droppedLateMinutes).toBe(1);
    expect(engine.status(T0 + 2 * MIN).budget.consumed).toBe(5);
  });

  it('drops and counts samples beyond the future allowance', () => {
    const spec = smallSpec();
    const engine = new IncrementalObjective(spec, { futureMinutes: 10 });
    engine.advanceTo(T0);
    engine.add(T0 + 9 * MIN, 5, 10);
    engine.add(T0 + 10 * MIN, 5, 10);
    expect(engine.droppedFutureMinutes).toBe(1);
    expect(engine.status(T0 + 10 * MIN).budget.consumed).toBe(5);
  });

  it('ignores and counts invalid samples', () => {
    const spec = smallSpec({ burnMinutes: [] });
    const engine = new IncrementalObjective(spec);
    engine.advanceTo(T0);
    engine.add(T0 - MIN, 11, 10);
    engine.add(T0 - MIN, -1, 10);
    engine.add(T0 - MIN, Number.NaN, 10);
    engine.add(Number.POSITIVE_INFINITY, 1, 10);
    expect(engine.rejectedSamples).toBe(4);
    expect(engine.status(T0).sli).toBeNull();
  });

  it('throws when the clock is asked to go back a minute', () => {
    const spec = smallSpec({ burnMinutes: [] });
    const engine = new IncrementalObjective(spec);
    engine.advanceTo(T0 + 30_000);
    expect(() => engine.status(T0 + 59_999)).not.toThrow();
    expect(() => engine.advanceTo(T0 - 1)).toThrow(RangeError);
  });

  it('reports the kept history and future allowance in milliseconds', () => {
    const spec = smallSpec({
      window: { kind: 'calendar', pick: 2 },
      burnMinutes: [5, 60],
      currentMinutes: 15,
      target: 0.999,
    });
    const engine = new IncrementalObjective(spec, { futureMinutes: 10 });
    expect(engine.historyMs).toBe(60 * MIN);
    expect(engine.futureMs).toBe(10 * MIN);
    expect(new IncrementalObjective(spec, { historyMinutes: 1500 }).historyMs).toBe(1500 * MIN);
    expect(() => new IncrementalObjective(spec, { historyMinutes: -1 })).toThrow(RangeError);
  });

  it('reports the ring size of a 30-day rolling window as its state bytes', () => {
    const spec = smallSpec({
      window: { kind: 'rolling', slices: 43_200 },
      burnMinutes: [5, 60],
      currentMinutes: 60,
      target: 0.999,
    });
    expect(new IncrementalObjective(spec).stateBytes()).toBe((43_200 + 60) * 2 * 8);
  });
});
