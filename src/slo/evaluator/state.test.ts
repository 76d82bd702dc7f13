import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  expectClose,
  referenceStatus,
  SPEC_DOCUMENTS,
  testCatalog,
} from '../../../test/support/evaluator-specs.js';
import { duration } from '../duration.js';
import { type EvaluationTarget, evaluationTargets } from '../evaluation.js';
import { loadSpecText } from '../spec/load.js';
import {
  EvaluationState,
  FUTURE_MINUTES,
  longestPeriodMs,
  type MinuteRow,
  partKey,
  replayStartMs,
  windowsSpanMs,
} from './state.js';

const MIN = 60_000;
const DAY = 1_440 * MIN;
/** Mid-March in Tokyo: the calendar month started 13 days ago. */
const T0 = Date.UTC(2026, 2, 14, 10, 17, 23);

/** Targets of every spec, with text replaced in the named documents. */
function loadTargets(edits: Record<string, [string, string]>): EvaluationTarget[] {
  const text = Object.entries(SPEC_DOCUMENTS)
    .map(([name, doc]) => (edits[name] ? doc.replace(edits[name][0], edits[name][1]) : doc))
    .join('---\n');
  const result = loadSpecText('edited.yaml', text);
  expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return evaluationTargets(result.catalog);
}

type Rows = Map<string, Map<number, { good: number; total: number }>>;

/** A stand-in for `sli_minutes`: rows only grow; `changed` is what the change feed would return. */
class FakeStore {
  readonly rows: Rows = new Map();
  changed = new Map<string, MinuteRow>();

  grow(storageKey: string, minuteMs: number, good: number, bad: number): void {
    let minutes = this.rows.get(storageKey);
    if (!minutes) {
      minutes = new Map();
      this.rows.set(storageKey, minutes);
    }
    const row = minutes.get(minuteMs) ?? { good: 0, total: 0 };
    row.good += good;
    row.total += good + bad;
    minutes.set(minuteMs, row);
    this.changed.set(`${storageKey}@${minuteMs}`, { storageKey, minuteMs, ...row });
  }

  from(storageKey: string, fromMs: number): MinuteRow[] {
    return [...(this.rows.get(storageKey) ?? new Map())]
      .filter(([minuteMs]) => minuteMs >= fromMs)
      .sort((a, b) => a[0] - b[0])
      .map(([minuteMs, c]) => ({ storageKey, minuteMs, good: c.good, total: c.total }));
  }

  between(storageKey: string, fromMs: number, toMs: number): MinuteRow[] {
    return this.from(storageKey, fromMs).filter((row) => row.minuteMs < toMs);
  }

  takeChanges(): MinuteRow[] {
    const out = [...this.changed.values()];
    this.changed = new Map();
    return out;
  }
}

/** One evaluator tick against the fake store, as the service does it. */
function tick(
  state: EvaluationState,
  store: FakeStore,
  nowMs: number,
  targets?: readonly EvaluationTarget[],
  replay: readonly MinuteRow[] = [],
) {
  state.setClock(nowMs);
  loadCold(state, store);
  state.advance();
  if (targets) state.setTargets(targets);
  for (const { storageKey, fromMs } of state.pending())
    state.backfill(storageKey, store.from(storageKey, fromMs));
  state.apply([...replay, ...store.takeChanges()]);
  // Tiered engines: the cold windows of new parts, and of parts a cold row reached, are rebuilt.
  loadCold(state, store);
  state.advance();
  return state.statuses();
}

/** Reads what the tiered engines ask for from the store, as the evaluator reads sli_minutes. */
function loadCold(state: EvaluationState, store: FakeStore): void {
  for (const read of state.coldReads())
    state.putCold(read, store.between(read.storageKey, read.fromMs, read.toMs));
}

function expectReference(state: EvaluationState, store: FakeStore, targets: readonly EvaluationTarget[]) {
  const { statuses, errors } = state.statuses();
  expect(errors).toEqual([]);
  expect(statuses.map((s) => s.target.id)).toEqual(targets.map((t) => t.id));
  for (const { target, status } of statuses)
    expectClose(status, referenceStatus(target, store.rows, state.nowMs), target.id);
}

type Op =
  | { kind: 'grow'; key: string; offsetMin: number; good: number; bad: number }
  | { kind: 'tick'; minutes: number; seconds: number; reread: boolean }
  | { kind: 'respec'; names: string[] };

const SLO_NAMES = ['api-availability', 'api-slices', 'web-month', 'shop-composite'];
const BASE_NAMES = ['service', 'sli-api', 'sli-web', 'maintenance'];

const growArb = fc.record({
  kind: fc.constant('grow' as const),
  key: fc.constantFrom('api', 'web', 'unknown'),
  // Mostly recent minutes; some late by days (inside the calendar month or before it) or far ahead.
  offsetMin: fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: -90, max: 2 }) },
    { weight: 2, arbitrary: fc.integer({ min: -6_000, max: -90 }) },
    { weight: 1, arbitrary: fc.integer({ min: -25_000, max: -6_000 }) },
    { weight: 1, arbitrary: fc.integer({ min: 2, max: 200 }) },
  ),
  good: fc.integer({ min: 0, max: 30 }),
  bad: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 10 })),
});

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 8, arbitrary: growArb },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('tick' as const),
      minutes: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 240 })),
      seconds: fc.integer({ min: 0, max: 59 }),
      reread: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('respec' as const), names: fc.subarray(SLO_NAMES) }),
  },
);

describe('EvaluationState', () => {
  it('equals the reference engine over the stored rows for any mix of late, future, re-read rows and spec changes, tiered or not', () => {
    // History already stored at start-up (the backfill), then ticks with data arriving between them.
    const history = fc.array(growArb, { maxLength: 40 });
    // Full-memory engines, and tiered ones reading their cold windows from the store.
    const hotMinutes = fc.constantFrom(undefined, 7, 45, 120, 1_500);
    fc.assert(
      fc.property(
        history,
        fc.array(opArb, { minLength: 1, maxLength: 40 }),
        hotMinutes,
        (stored, ops, hot) => {
          const store = new FakeStore();
          const state = new EvaluationState({ hotMinutes: hot });
          let nowMs = T0;
          let targets = evaluationTargets(testCatalog());
          let respec: EvaluationTarget[] | undefined;
          const seen: MinuteRow[] = [];
          for (const op of stored)
            store.grow(op.key, (Math.floor(T0 / MIN) + op.offsetMin) * MIN, op.good, op.bad);
          store.takeChanges(); // written long ago: only the backfill reads them
          tick(state, store, nowMs, targets);
          expectReference(state, store, targets);
          for (const op of ops) {
            if (op.kind === 'grow') {
              const minuteMs = (Math.floor(nowMs / MIN) + op.offsetMin) * MIN;
              store.grow(op.key, minuteMs, op.good, op.bad);
            } else if (op.kind === 'respec') {
              targets = evaluationTargets(testCatalog([...BASE_NAMES, ...op.names]));
              respec = targets;
            } else {
              nowMs += op.minutes * MIN + op.seconds * 1000;
              // A re-read hands back rows already applied, some of them stale by now: set semantics
              // must make the newest read win, so re-reads go first, as rows only grow.
              const replay = op.reread ? seen.splice(0) : [];
              seen.push(...store.changed.values());
              tick(state, store, nowMs, respec, replay);
              respec = undefined;
              expectReference(state, store, targets);
            }
          }
          tick(state, store, nowMs + MIN, respec);
          expectReference(state, store, targets);
        },
      ),
      { numRuns: 18 },
    );
  }, 90_000);

  it('keeps the engine of a part whose storage key and spec did not change', () => {
    const store = new FakeStore();
    const state = new EvaluationState();
    tick(state, store, T0, evaluationTargets(testCatalog()));
    expect(state.stats()).toMatchObject({ parts: 5, readyParts: 5 });

    const without = [...BASE_NAMES, 'api-availability', 'shop-composite'];
    // api-availability shares its engine with the composite's API part; the composite's web part stays.
    expect(state.setTargets(evaluationTargets(testCatalog(without)))).toEqual({
      added: 0,
      kept: 2,
      removed: 3,
      failed: [],
    });
    expect(state.pending()).toEqual([]);

    expect(state.setTargets(evaluationTargets(testCatalog()))).toMatchObject({
      added: 3,
      kept: 2,
      removed: 0,
    });
    expect(state.pending().map((p) => p.storageKey)).toEqual(['api', 'web']);
    for (const { storageKey } of state.pending()) state.backfill(storageKey, []);

    const looser = loadTargets({ 'api-availability': ['target: 0.99', 'target: 0.98'] });
    expect(state.setTargets(looser)).toMatchObject({ added: 1, kept: 5, removed: 0 });
    expect(state.pending().map((p) => p.storageKey)).toEqual(['api']);
  });

  it('shares one engine between targets reading the same stream with the same objective', () => {
    const targets = evaluationTargets(testCatalog());
    const keys = new Set(targets.flatMap((t) => t.parts.map(partKey)));
    expect(targets.flatMap((t) => t.parts)).toHaveLength(6);
    expect(keys.size).toBe(5);
  });

  it('holds rows too far ahead of the clock and counts them once the clock reaches them', () => {
    const store = new FakeStore();
    const state = new EvaluationState();
    const targets = evaluationTargets(testCatalog([...BASE_NAMES, 'api-availability']));
    tick(state, store, T0, targets);
    const aheadMs = (Math.floor(T0 / MIN) + FUTURE_MINUTES + 30) * MIN;
    store.grow('api', aheadMs, 5, 5);
    tick(state, store, T0 + MIN);
    expect(state.stats().deferredRows).toBe(1);
    tick(state, store, aheadMs + MIN);
    expect(state.stats().deferredRows).toBe(0);
    expect(state.stats().droppedFutureMinutes).toBe(0);
    expectReference(state, store, targets);
  });

  it('skips a target whose objective the engine refuses and reports it', () => {
    const state = new EvaluationState();
    const [good, bad] = evaluationTargets(testCatalog([...BASE_NAMES, 'api-availability', 'api-slices']));
    const broken: EvaluationTarget = {
      ...bad!,
      parts: bad!.parts.map((p) => ({ ...p, spec: { ...p.spec, target: 2 } })),
    };
    state.advanceTo(T0);
    const change = state.setTargets([good!, broken]);
    expect(change.failed).toEqual([{ id: 'api-slices', error: expect.stringContaining('target') }]);
    expect(state.pending()).toHaveLength(1);
    for (const { storageKey } of state.pending()) state.backfill(storageKey, []);
    expect(state.statuses().statuses.map((s) => s.target.id)).toEqual(['api-availability']);
  });

  it('refuses to move its clock back', () => {
    const state = new EvaluationState();
    expect(() => state.pending()).toThrow(RangeError);
    state.advanceTo(T0);
    expect(() => state.advanceTo(T0 - 1)).toThrow(RangeError);
  });
});

describe('replay bounds', () => {
  const targets = evaluationTargets(testCatalog());
  const spec = (id: string) => targets.find((t) => t.id === id)!.parts[0]!.spec;

  it('starts a rolling part at now minus its longest window (the 3d burn window here)', () => {
    expect(windowsSpanMs(spec('api-availability'))).toBe(3 * DAY);
    expect(replayStartMs(spec('api-availability'), T0)).toBe(Math.floor(T0 / MIN) * MIN - 3 * DAY);
  });

  it('starts a calendar part at its period start when that is earlier', () => {
    // March 2026 in Tokyo starts at 2026-02-28T15:00Z.
    expect(replayStartMs(spec('web-month/most'), T0)).toBe(Date.UTC(2026, 1, 28, 15));
    const early = Date.UTC(2026, 1, 28, 16, 30);
    expect(replayStartMs(spec('web-month/most'), early)).toBe(early - 3 * DAY);
  });

  it('bounds a calendar period by its longest case and caps very long ones', () => {
    expect(longestPeriodMs(duration('1M'))).toBe(32 * DAY);
    expect(longestPeriodMs(duration('2h'))).toBe(120 * MIN);
    expect(longestPeriodMs(duration('1w'))).toBe(8 * DAY);
    expect(longestPeriodMs(duration('1000Y'))).toBe(367 * DAY);
  });
});
