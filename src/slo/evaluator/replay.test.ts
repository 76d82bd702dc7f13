import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expectClose, referenceStatus, testCatalog } from '../../../test/support/evaluator-specs.js';
import type { BudgetStatus } from '../budget/index.js';
import { evaluationTargets } from '../evaluation.js';
import { historyRange, historySpanMs, missingSteps, TargetReplay } from './replay.js';
import { EvaluationState, type MinuteRow } from './state.js';

const MIN = 60_000;
const DAY = 1_440 * MIN;
const STEP = 5 * MIN;
/** Mid-March in Tokyo (the calendar month is 13 days in), on a 5-minute step. */
const S0 = Date.UTC(2026, 2, 14, 10, 15);

type Rows = Map<string, Map<number, { good: number; total: number }>>;

function rowsOf(samples: ReadonlyArray<{ key: string; offsetMin: number; good: number; bad: number }>): Rows {
  const rows: Rows = new Map();
  for (const s of samples) {
    const minuteMs = S0 + s.offsetMin * MIN;
    let minutes = rows.get(s.key);
    if (!minutes) {
      minutes = new Map();
      rows.set(s.key, minutes);
    }
    const row = minutes.get(minuteMs) ?? { good: 0, total: 0 };
    row.good += s.good;
    row.total += s.good + s.bad;
    minutes.set(minuteMs, row);
  }
  return rows;
}

/** The rows with `fromMs ≤ minute < toMs` (of one key, or all), each key ascending (as the store reads them). */
function between(rows: Rows, fromMs: number, toMs: number, only?: string): MinuteRow[] {
  return [...rows]
    .filter(([storageKey]) => only === undefined || storageKey === only)
    .flatMap(([storageKey, minutes]) =>
      [...minutes]
        .filter(([minuteMs]) => minuteMs >= fromMs && minuteMs < toMs)
        .sort((a, b) => a[0] - b[0])
        .map(([minuteMs, c]) => ({ storageKey, minuteMs, ...c })),
    );
}

const sampleArb = fc.record({
  key: fc.constantFrom('api', 'web'),
  // Days of history before the live start (some of it before the calendar month), and the
  // minutes ticked through.
  offsetMin: fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: -200, max: 130 }) },
    { weight: 2, arbitrary: fc.integer({ min: -6_000, max: -200 }) },
    { weight: 1, arbitrary: fc.integer({ min: -25_000, max: -6_000 }) },
  ),
  good: fc.integer({ min: 0, max: 30 }),
  bad: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 10 })),
});

describe('TargetReplay', () => {
  it('gives at each step boundary the status the live path computes ticking through the same minutes', () => {
    const targets = evaluationTargets(testCatalog());
    fc.assert(
      fc.property(
        fc.array(sampleArb, { maxLength: 150 }),
        fc.integer({ min: 1, max: 24 }),
        fc.array(fc.boolean(), { minLength: 36, maxLength: 36 }),
        fc.array(fc.integer({ min: 1, max: 4_000 }), { minLength: 1, maxLength: 5 }),
        fc.boolean(),
        (samples, liveSteps, pick, chunkMinutes, startAtData) => {
          const rows = rowsOf(samples);
          const endMs = S0 + liveSteps * STEP;

          // The live path: started at S0 (backfilled from what was stored then), then one tick at
          // every step boundary, with the minutes in between arriving just before it.
          const state = new EvaluationState();
          state.advanceTo(S0);
          state.setTargets(targets);
          for (const { storageKey, fromMs } of state.pending())
            state.backfill(storageKey, between(rows, fromMs, S0, storageKey));
          const live = new Map<number, Map<string, BudgetStatus>>();
          for (let atMs = S0; atMs <= endMs; atMs += STEP) {
            state.advanceTo(atMs);
            if (atMs > S0) state.apply(between(rows, atMs - STEP, atMs));
            const { statuses, errors } = state.statuses();
            expect(errors).toEqual([]);
            live.set(atMs, new Map(statuses.map((s) => [s.target.id, s.status])));
          }

          // Replays of some steps, from before the live start to its end, in chunks of any size.
          const candidates = Array.from({ length: 36 }, (_, i) => S0 - 12 * STEP + i * STEP).filter(
            (atMs) => atMs <= endMs,
          );
          const steps = candidates.filter((_, i) => pick[i]);
          if (steps.length === 0) steps.push(endMs);
          // Started at the first stored minute (skipping the empty ones before), or where the
          // first step's windows begin.
          const minutes = [...rows.values()].flatMap((m) => [...m.keys()]);
          const firstDataMs = minutes.length && startAtData ? Math.min(...minutes) : null;
          for (const target of targets) {
            const replay = new TargetReplay(target, steps, firstDataMs);
            const points: Array<{ atMs: number; status: BudgetStatus }> = [];
            for (let c = 0; !replay.done; c++) {
              const fromMs = replay.positionMs;
              const toMs = Math.min(fromMs + chunkMinutes[c % chunkMinutes.length]! * MIN, replay.untilMs);
              points.push(...replay.advance(toMs, between(rows, fromMs, toMs)));
            }
            expect(replay.errors).toEqual([]);
            expect(points.map((p) => p.atMs)).toEqual(steps);
            for (const { atMs, status } of points) {
              const label = `${target.id} at ${new Date(atMs).toISOString()}`;
              expectClose(status, referenceStatus(target, rows, atMs), label);
              const liveStatus = live.get(atMs)?.get(target.id);
              if (liveStatus) expectClose(status, liveStatus, `${label} (live)`);
            }
          }
        },
      ),
      { numRuns: 15 },
    );
  }, 120_000);

  it('refuses an empty or unordered list of steps and a chunk that does not move forward', () => {
    const [target] = evaluationTargets(testCatalog());
    expect(() => new TargetReplay(target!, [])).toThrow(RangeError);
    expect(() => new TargetReplay(target!, [S0, S0])).toThrow(RangeError);
    const replay = new TargetReplay(target!, [S0]);
    expect(replay.positionMs).toBe(S0 - 3 * DAY);
    expect(() => replay.advance(replay.positionMs, [])).toThrow(RangeError);
    expect(replay.storageKeys()).toEqual(['api']);
  });

  it('reads each storage key once for a composite, and shares nothing with other targets', () => {
    const composite = evaluationTargets(testCatalog()).find((t) => t.id === 'shop-composite')!;
    expect(new TargetReplay(composite, [S0]).storageKeys().sort()).toEqual(['api', 'web']);
  });
});

describe('history range', () => {
  const targets = evaluationTargets(testCatalog());
  const target = (id: string) => targets.find((t) => t.id === id)!;

  it('reaches back 35 days, or a longer period (a calendar month is bounded by 32 days)', () => {
    expect(historySpanMs(target('api-availability'), 35)).toBe(35 * DAY);
    expect(historySpanMs(target('api-availability'), 0)).toBe(DAY);
    expect(historySpanMs(target('web-month/most'), 1)).toBe(32 * DAY);
  });

  it('starts at the first step covering the earliest stored minute, within the span', () => {
    // A status at b covers the minutes before b: data from 10:01 first shows at 10:05.
    expect(historyRange(S0 - 14 * MIN, S0, STEP, DAY)).toEqual({ fromMs: S0 - 10 * MIN, toMs: S0 });
    expect(historyRange(S0 - 15 * MIN, S0, STEP, DAY)).toEqual({ fromMs: S0 - 10 * MIN, toMs: S0 });
    expect(historyRange(S0 - 16 * MIN, S0, STEP, DAY)).toEqual({ fromMs: S0 - 15 * MIN, toMs: S0 });
    expect(historyRange(S0 - 90 * DAY, S0, STEP, DAY)).toEqual({ fromMs: S0 - DAY, toMs: S0 });
    expect(historyRange(S0 - MIN, S0, STEP, DAY)).toEqual({ fromMs: S0, toMs: S0 });
    expect(historyRange(S0, S0, STEP, DAY)).toBeNull();
    expect(historyRange(null, S0, STEP, DAY)).toBeNull();
  });

  it('lists the steps without a stored point', () => {
    expect(missingSteps(S0, S0 + 4 * STEP, STEP, [S0 + STEP, S0 + 3 * STEP, S0 + 7])).toEqual([
      S0,
      S0 + 2 * STEP,
      S0 + 4 * STEP,
    ]);
    expect(missingSteps(S0, S0, STEP, [S0])).toEqual([]);
  });
});
