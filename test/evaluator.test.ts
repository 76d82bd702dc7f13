import pg from 'pg';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Clock } from '../src/platform/clock.js';
import { type Db, openDatabase } from '../src/platform/db/database.js';
import { migrateToLatest } from '../src/platform/db/migrations.js';
import { createMetrics, type ShinraiMetrics } from '../src/platform/metrics.js';
import { budgetReport } from '../src/slo/budget-report.js';
import type { CountRow } from '../src/slo/data-file.js';
import { evaluationTargets } from '../src/slo/evaluation.js';
import { Evaluator, type EvaluatorConfig } from '../src/slo/evaluator/evaluator.js';
import { createLeaderElection, PgLeadership } from '../src/slo/evaluator/leader.js';
import { getStatus, history, isStale, listStatuses, type StoredStatus } from '../src/slo/evaluator/read.js';
import { upsertBuckets } from '../src/slo/ingest/service.js';
import type { Catalog } from '../src/slo/model.js';
import { loadSpecText } from '../src/slo/spec/load.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from './support/databases.js';
import { expectClose, referenceStatus, SPEC_DOCUMENTS, testCatalog } from './support/evaluator-specs.js';

const MIN = 60_000;
const DAY = 1_440 * MIN;
const STEP = 5 * MIN;
/** Mid-March in Tokyo (the calendar-month SLO is 13 days into its period), on a 5-minute step. */
const T0 = Date.UTC(2026, 2, 14, 10, 15);
const silent = pino({ level: 'silent' });
const ALL_SLOS = [
  'api-availability',
  'api-slices',
  'web-month/most',
  'web-month/nearly-all',
  'shop-composite',
];

/** sli_minutes as ingestion writes it (additive upserts), mirrored in memory for the reference. */
class Minutes {
  readonly rows = new Map<string, Map<number, { good: number; total: number }>>();
  constructor(private readonly db: Db) {}

  async grow(sli: string, minuteMs: number, good: number, bad: number, updatedAtMs: number): Promise<void> {
    await this.growMany([{ sli, minuteMs, good, bad }], updatedAtMs);
  }

  async growMany(
    batch: ReadonlyArray<{ sli: string; minuteMs: number; good: number; bad: number }>,
    updatedAtMs: number,
  ): Promise<void> {
    // Written exactly as ingestion writes them (additive upsert), so the evaluator sees real rows.
    await upsertBuckets(
      this.db.kysely,
      batch.map((b) => ({ storageKey: b.sli, minuteMs: b.minuteMs, good: b.good, total: b.good + b.bad })),
      updatedAtMs,
    );
    for (const b of batch) {
      let minutes = this.rows.get(b.sli);
      if (!minutes) {
        minutes = new Map();
        this.rows.set(b.sli, minutes);
      }
      const row = minutes.get(b.minuteMs) ?? { good: 0, total: 0 };
      row.good += b.good;
      row.total += b.good + b.bad;
      minutes.set(b.minuteMs, row);
    }
  }

  countRows(): CountRow[] {
    return [...this.rows].flatMap(([sli, minutes]) =>
      [...minutes].map(([tsMs, c]) => ({ sli, tsMs, good: c.good, total: c.total })),
    );
  }
}

/** Deterministic traffic with failures: `days` of minutes before `endMs` for both streams. */
function traffic(endMs: number, days: number) {
  const batch: Array<{ sli: string; minuteMs: number; good: number; bad: number }> = [];
  const first = Math.floor(endMs / MIN) - days * 1_440;
  for (let m = first; m < endMs / MIN; m++) {
    if (m % 7 === 3) continue; // some minutes without data
    batch.push({
      sli: 'api',
      minuteMs: m * MIN,
      good: 40 + (m % 13),
      bad: m % 17 === 0 ? 5 : m % 5 === 0 ? 1 : 0,
    });
    batch.push({ sli: 'web', minuteMs: m * MIN, good: 20 + (m % 3), bad: m % 11 === 0 ? 3 : 0 });
  }
  return batch;
}

interface Harness {
  db: Db;
  minutes: Minutes;
  clock: Clock & { ms: number };
  specs: { catalog: Catalog; version: number };
  metrics: ShinraiMetrics;
  evaluator: Evaluator;
  /** Another evaluator on the same database and clock (a restart, a second replica); stopped at the end. */
  another(config?: Partial<EvaluatorConfig>): Promise<Evaluator>;
  /** The debug line of every tick that evaluated, of any of the harness's evaluators. */
  ticks: TickLine[];
}

interface TickLine {
  waitingBackfills: number;
  restoredEngines?: number;
  historyWaiting?: number;
  historyChecked?: number;
  historyPoints?: number;
}

/** Ticks (moving the clock by `advanceMs` first) until no backfill, live or history, is left. */
async function tickUntilSettled(h: Harness, evaluator = h.evaluator, advanceMs = 0): Promise<number> {
  for (let n = 1; n <= 400; n++) {
    h.clock.ms += advanceMs;
    const before = h.ticks.length;
    await evaluator.tick();
    const last = h.ticks.at(-1);
    if (h.ticks.length > before && last?.waitingBackfills === 0 && (last.historyWaiting ?? 0) === 0) return n;
  }
  throw new Error('the backfills did not finish within 400 ticks');
}

interface StoredPoint {
  tsMs: number;
  sli: number | null;
  remaining: number | null;
  burnRates: Record<string, number | null>;
}

/** Every stored history point of one SLO, ascending. */
async function storedHistory(db: Db, id: string): Promise<StoredPoint[]> {
  const rows = await db.kysely
    .selectFrom('slo_history')
    .selectAll()
    .where('slo_id', '=', id)
    .orderBy('ts')
    .execute();
  return rows.map((r) => ({
    tsMs: Number(r.ts),
    sli: r.sli === null ? null : Number(r.sli),
    remaining: r.remaining === null ? null : Number(r.remaining),
    burnRates: JSON.parse(r.burn_rates) as Record<string, number | null>,
  }));
}

/**
 * The history of every SLO has a point at every step from `fromMs` to `toMs` and none outside, and
 * the points up to `checkUntilMs` equal the reference engine over the stored minutes at their
 * instant (every 11th step, so every time of day is sampled, and the first and last).
 */
async function expectHistoryMatchesReference(
  h: Harness,
  range: Record<string, { fromMs: number; toMs: number }>,
  checkUntilMs = Number.POSITIVE_INFINITY,
): Promise<void> {
  const targets = evaluationTargets(h.specs.catalog);
  for (const [id, { fromMs, toMs }] of Object.entries(range)) {
    const points = await storedHistory(h.db, id);
    const steps = (toMs - fromMs) / STEP + 1;
    expect(
      points.map((p) => p.tsMs),
      id,
    ).toEqual(Array.from({ length: steps }, (_, i) => fromMs + i * STEP));
    const target = targets.find((t) => t.id === id)!;
    const checked = points.filter((p) => p.tsMs <= checkUntilMs);
    checked.forEach((point, i) => {
      if (i % 11 !== 0 && i !== checked.length - 1) return;
      const status = referenceStatus(target, h.minutes.rows, point.tsMs);
      expectClose(
        { sli: point.sli, remaining: point.remaining, burnRates: point.burnRates },
        JSON.parse(
          JSON.stringify({
            sli: status.sli,
            remaining: status.budget.remaining,
            burnRates: status.burnRates,
          }),
        ),
        `${id} at ${new Date(point.tsMs).toISOString()}`,
      );
    });
  }
}

/** Each SLO's range from its first step with data to `toMs`. */
function everySlo(fromMs: number, toMs: number): Record<string, { fromMs: number; toMs: number }> {
  return Object.fromEntries(ALL_SLOS.map((id) => [id, { fromMs, toMs }]));
}

function countOf(metrics: ShinraiMetrics, outcome: string): Promise<number> {
  return metrics.evaluations
    .get()
    .then((m) => m.values.find((v) => v.labels.outcome === outcome)?.value ?? 0);
}

async function expectMatchesReport(h: Harness, ids: readonly string[] = ALL_SLOS): Promise<void> {
  const stored = await listStatuses(h.db);
  expect([...stored.keys()].sort()).toEqual([...ids].sort());
  const { report } = budgetReport(h.specs.catalog, h.minutes.countRows(), h.clock.ms);
  expect(report.slos.map((s) => s.id).sort()).toEqual([...ids].sort());
  for (const expected of report.slos) {
    const actual = stored.get(expected.id)!;
    expect(actual.evaluatedAt).toBe(new Date(h.clock.ms).toISOString());
    // JSON drops undefined fields, as the API does.
    expectClose(
      actual,
      { ...JSON.parse(JSON.stringify(expected)), evaluatedAt: actual.evaluatedAt },
      expected.id,
    );
  }
}

describe.each(DIALECTS)('evaluator on %s', (dialect) => {
  let testDb: TestDatabase;
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  /**
   * `afterRead` runs in each tick of the first evaluator after it has read its minutes and computed
   * its statuses, before it writes (the evaluator's `dataStates` step): a test can hold a tick there.
   */
  async function harness(
    config: Partial<EvaluatorConfig> = {},
    hooks: { afterRead?: () => Promise<void> } = {},
  ): Promise<Harness> {
    testDb = await createTestDatabase(dialect);
    const db = openDatabase(testDb.url);
    const dropDb = testDb;
    cleanup.push(async () => {
      await db.close();
      await dropDb.drop();
    });
    await migrateToLatest(db.kysely);
    const clock = { ms: T0, now: () => clock.ms };
    const specs = { catalog: testCatalog(), version: 1 };
    const url = testDb.url;
    const ticks: TickLine[] = [];
    const log = pino(
      { level: 'debug' },
      {
        write: (line: string) => {
          const entry = JSON.parse(line) as TickLine & { msg: string };
          if (entry.msg === 'evaluation tick') ticks.push(entry);
        },
      },
    );
    async function another(
      more: Partial<EvaluatorConfig> = {},
      metrics = createMetrics(),
      afterRead?: () => Promise<void>,
    ) {
      const leader =
        dialect === 'postgres'
          ? createLeaderElection({ db, url, retrySeconds: 1, log: silent, metrics })
          : undefined;
      const evaluator = new Evaluator({
        db,
        clock,
        log,
        metrics,
        specs: () => specs,
        config: { tickSeconds: 30, historyStepSeconds: 300, ...config, ...more },
        leader,
        dataStates: afterRead
          ? async () => {
              await afterRead();
              return new Map();
            }
          : undefined,
      });
      // No start(): the tests drive ticks themselves; the election is started for PostgreSQL.
      await leader?.start();
      cleanup.push(async () => evaluator.stop());
      return evaluator;
    }
    const metrics = createMetrics();
    const evaluator = await another({}, metrics, hooks.afterRead);
    return {
      db,
      minutes: new Minutes(db),
      clock,
      specs,
      metrics,
      evaluator,
      another: (c) => another(c),
      ticks,
    };
  }

  it('stores for every SLO the status `shinrai budget --json` computes from the same minutes', async () => {
    const h = await harness();
    await h.minutes.growMany(traffic(T0, 15), T0 - 10 * MIN);
    await h.evaluator.tick();
    expect(await countOf(h.metrics, 'ok')).toBe(1);
    await expectMatchesReport(h);
    // Occurrences with whole counts: the incremental engine's sums are exact.
    const { report } = budgetReport(h.specs.catalog, h.minutes.countRows(), T0);
    const api = report.slos.find((s) => s.id === 'api-availability')!;
    expect(await getStatus(h.db, 'api-availability')).toEqual({
      ...JSON.parse(JSON.stringify(api)),
      evaluatedAt: new Date(T0).toISOString(),
    });
    expect(await getStatus(h.db, 'nope')).toBeUndefined();
  });

  it('follows late and growing minutes through the change feed', async () => {
    const h = await harness();
    await h.minutes.growMany(traffic(T0, 4), T0 - 10 * MIN);
    await h.evaluator.tick();

    for (let i = 1; i <= 6; i++) {
      h.clock.ms = T0 + i * 30_000;
      // The current minute grows, a minute 20 minutes back gets a late batch of failures, and a
      // batch stamped before the last tick commits only now (inside the re-read margin).
      await h.minutes.grow('api', Math.floor(h.clock.ms / MIN) * MIN - MIN, 30, i % 2, h.clock.ms);
      await h.minutes.grow('api', T0 - 20 * MIN, 0, 50, h.clock.ms);
      await h.minutes.grow('web', T0 - 3 * 1_440 * MIN - 7 * MIN, 1, 40, h.clock.ms - 45_000);
      await h.evaluator.tick();
      await expectMatchesReport(h);
    }
    const before = (await getStatus(h.db, 'api-availability'))!;
    h.clock.ms += 30_000;
    await h.minutes.grow('api', T0 - 30 * MIN, 0, 500, h.clock.ms);
    await h.evaluator.tick();
    const after = (await getStatus(h.db, 'api-availability'))!;
    expect(after.budget.remaining).toBeLessThan(before.budget.remaining);
    await expectMatchesReport(h);
  });

  it('adds and removes SLOs when the specs change, backfilling the new ones', async () => {
    const h = await harness();
    await h.minutes.growMany(traffic(T0, 15), T0 - 10 * MIN);
    h.specs.catalog = testCatalog(['service', 'sli-api', 'sli-web', 'maintenance', 'api-availability']);
    h.specs.version = 2;
    await h.evaluator.tick();
    await expectMatchesReport(h, ['api-availability']);

    h.clock.ms += 30_000;
    h.specs.catalog = testCatalog(Object.keys(SPEC_DOCUMENTS).filter((n) => n !== 'api-availability'));
    h.specs.version = 3;
    await h.minutes.grow('web', T0, 3, 1, h.clock.ms);
    await h.evaluator.tick();
    await expectMatchesReport(
      h,
      ALL_SLOS.filter((id) => id !== 'api-availability'),
    );
  });

  it('spreads a large backfill over ticks, writing each SLO as soon as its streams are in', async () => {
    const h = await harness({ backfillSecondsPerTick: 0 });
    await h.minutes.growMany(traffic(T0, 3), T0 - 10 * MIN);
    // One storage key per tick: 'api' first (two SLOs), then 'web' (the rest, and the composite).
    await h.evaluator.tick();
    expect([...(await listStatuses(h.db)).keys()].sort()).toEqual(['api-availability', 'api-slices']);
    await h.evaluator.tick();
    await expectMatchesReport(h);
  });

  it('writes one history point per step and downsamples it on read', async () => {
    const h = await harness();
    await h.minutes.growMany(traffic(T0, 4), T0 - 10 * MIN);
    for (let s = 0; s <= 12; s++) {
      // Ticks every 30 s for an hour: history points on the 5-minute steps only.
      h.clock.ms = T0 + s * 5 * MIN;
      await h.evaluator.tick();
      h.clock.ms += 30_000;
      await h.minutes.grow('api', Math.floor(h.clock.ms / MIN) * MIN - MIN, 10, s % 3, h.clock.ms);
      await h.evaluator.tick();
    }
    // From T0 on, the live path's points (before it, the history backfill's: tested below).
    const rows = await h.db.kysely
      .selectFrom('slo_history')
      .selectAll()
      .where('slo_id', '=', 'api-availability')
      .where('ts', '>=', T0)
      .orderBy('ts')
      .execute();
    expect(rows.map((r) => Number(r.ts))).toEqual(Array.from({ length: 13 }, (_, s) => T0 + s * 5 * MIN));
    const counted = await h.db.kysely
      .selectFrom('slo_history')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('ts', '>=', T0)
      .executeTakeFirstOrThrow();
    expect(Number(counted.n)).toBe(13 * ALL_SLOS.length);

    const last = rows.at(-1)!;
    expect(Number(last.ts)).toBe(T0 + 60 * MIN);
    expect(JSON.parse(last.burn_rates)).toBeTypeOf('object');

    const points = await history(h.db, 'api-availability', {
      fromMs: T0,
      toMs: T0 + 60 * MIN,
      stepMs: 20 * MIN,
    });
    // Buckets [0, 20), [20, 40), [40, 60) minutes and 60: the last point of each.
    expect(points.map((p) => p.ts)).toEqual(
      [15, 35, 55, 60].map((m) => new Date(T0 + m * MIN).toISOString()),
    );
    const lastPoint = points.at(-1)!;
    expect(lastPoint.sli).toBe(last.sli === null ? null : Number(last.sli));
    expect(lastPoint.remaining).toBe(Number(last.remaining));
    expect(
      await history(h.db, 'api-availability', { fromMs: T0 + MIN, toMs: T0 + 4 * MIN, stepMs: MIN }),
    ).toEqual([]);
    await expect(history(h.db, 'api-availability', { fromMs: T0, toMs: T0, stepMs: 0 })).rejects.toThrow(
      RangeError,
    );
  });

  it('backfills the history of minutes stored before it ran: a point every step, equal to the reference', async () => {
    const h = await harness({ backfillSecondsPerTick: 0 });
    await h.minutes.growMany(traffic(T0, 3), T0 - 10 * MIN);
    // Live statuses first: the first tick backfills the 'api' stream only and replays nothing.
    await h.evaluator.tick();
    expect([...(await listStatuses(h.db)).keys()].sort()).toEqual(['api-availability', 'api-slices']);
    expect((await storedHistory(h.db, 'api-availability')).map((p) => p.tsMs)).toEqual([T0]);
    // Then one check or one day of minutes per tick (no time budget), while the clock runs on and
    // every tick still writes the statuses.
    const ticks = await tickUntilSettled(h, h.evaluator, 30_000);
    expect(ticks).toBeGreaterThan(10);
    expect((await getStatus(h.db, 'shop-composite'))?.evaluatedAt).toBe(new Date(h.clock.ms).toISOString());
    const lastStep = Math.floor(h.clock.ms / STEP) * STEP;
    // The first step after the first stored minute, to the step the clock is in now.
    await expectHistoryMatchesReference(h, everySlo(T0 - 3 * DAY + STEP, lastStep));
  });

  it('a new lead restores the saved engines, refuses a damaged one, and equals the reference, changes made meanwhile included', async () => {
    const h = await harness();
    await h.minutes.growMany(traffic(T0, 3), T0 - 10 * MIN);
    await tickUntilSettled(h);
    // Ten ticks save every part's engine once (a tenth of them per tick).
    for (let i = 0; i < 10; i++) {
      h.clock.ms += 30_000;
      await h.minutes.grow('api', Math.floor(h.clock.ms / MIN) * MIN - MIN, 7, i % 2, h.clock.ms);
      await h.evaluator.tick();
    }
    const saved = await h.db.kysely
      .selectFrom('engine_checkpoints')
      .select(['part', 'storage_key'])
      .execute();
    const parts = saved.length;
    expect(parts).toBeGreaterThanOrEqual(4);
    expect(new Set(saved.map((r) => r.storage_key))).toEqual(new Set(['api', 'web']));
    await h.evaluator.stop();

    // While nobody leads: a live minute, a change of a minute two days old (cold: a rebuild), and
    // one web checkpoint damaged (refused: a backfill).
    h.clock.ms += 5 * MIN;
    const nowMinute = Math.floor(h.clock.ms / MIN) * MIN;
    await h.minutes.grow('api', nowMinute - 2 * MIN, 30, 2, h.clock.ms);
    await h.minutes.grow('api', T0 - 2 * DAY + 17 * MIN, 0, 50, h.clock.ms);
    await h.minutes.grow('web', nowMinute - 3 * MIN, 10, 4, h.clock.ms);
    const damaged = saved.find((r) => r.storage_key === 'web')!.part;
    await h.db.kysely
      .updateTable('engine_checkpoints')
      .set({ state: new Uint8Array([1, 2, 3]) })
      .where('part', '=', damaged)
      .execute();

    const next = await h.another();
    const first = h.ticks.length;
    await tickUntilSettled(h, next);
    expect(h.ticks[first]?.restoredEngines).toBe(parts - 1);
    await expectMatchesReport(h);
    // It goes on from there: more minutes, one more tick, still the reference.
    h.clock.ms += 30_000;
    await h.minutes.grow('web', Math.floor(h.clock.ms / MIN) * MIN - MIN, 3, 3, h.clock.ms);
    await next.tick();
    await expectMatchesReport(h);
  });

  it('never duplicates or rewrites a point, and resumes at the steps still missing', async () => {
    const h = await harness();
    await h.minutes.growMany(traffic(T0, 2), T0 - 10 * MIN);
    await tickUntilSettled(h);
    await h.evaluator.stop();
    const before = new Map<string, StoredPoint[]>();
    for (const id of ALL_SLOS) before.set(id, await storedHistory(h.db, id));
    expect(before.get('api-slices')).toHaveLength(2 * 288);

    // A restart (or a new leader) with nothing missing writes nothing.
    const second = await h.another();
    await tickUntilSettled(h, second);
    await second.stop();
    for (const id of ALL_SLOS) expect(await storedHistory(h.db, id), id).toEqual(before.get(id));

    // A replay cut short (points of a day gone) and a point written earlier with other values: the
    // next leader fills the gap with the same points and keeps the existing one as it is.
    const gap = { fromMs: T0 - DAY - 3 * 60 * MIN, toMs: T0 - 2 * 60 * MIN };
    await h.db.kysely
      .deleteFrom('slo_history')
      .where('slo_id', '=', 'shop-composite')
      .where('ts', '>=', gap.fromMs)
      .where('ts', '<=', gap.toMs)
      .execute();
    const keptMs = T0 - DAY;
    await h.db.kysely
      .updateTable('slo_history')
      .set({ remaining: 0.25 })
      .where('slo_id', '=', 'web-month/most')
      .where('ts', '=', keptMs)
      .execute();
    const third = await h.another();
    await tickUntilSettled(h, third);
    const after = await storedHistory(h.db, 'shop-composite');
    expect(after.map((p) => p.tsMs)).toEqual(before.get('shop-composite')!.map((p) => p.tsMs));
    expectClose(after, before.get('shop-composite'), 'shop-composite');
    const kept = (await storedHistory(h.db, 'web-month/most')).find((p) => p.tsMs === keptMs);
    expect(kept?.remaining).toBe(0.25);
  });

  it('replays exactly the points a running evaluator writes ticking through the same minutes', async () => {
    // Running: started two hours before T0 on a day of stored minutes, one tick on every step
    // boundary, each step's minutes ingested just before its tick.
    const running = await harness();
    const startMs = T0 - 2 * 60 * MIN;
    const all = traffic(T0, 1.5);
    await running.minutes.growMany(
      all.filter((b) => b.minuteMs < startMs),
      startMs - 10 * MIN,
    );
    running.clock.ms = startMs;
    await tickUntilSettled(running);
    for (let atMs = startMs + STEP; atMs <= T0; atMs += STEP) {
      running.clock.ms = atMs;
      await running.minutes.growMany(
        all.filter((b) => b.minuteMs >= atMs - STEP && b.minuteMs < atMs),
        atMs - 20_000,
      );
      await running.evaluator.tick();
    }
    // Replayed: every minute stored before an evaluator ever ran.
    const replayed = await harness();
    await replayed.minutes.growMany(all, T0 - 10 * MIN);
    await tickUntilSettled(replayed);

    for (const id of ALL_SLOS) {
      const live = (await storedHistory(running.db, id)).filter((p) => p.tsMs >= startMs);
      const replay = (await storedHistory(replayed.db, id)).filter((p) => p.tsMs >= startMs);
      expect(live.map((p) => p.tsMs)).toEqual(Array.from({ length: 25 }, (_, i) => startMs + i * STEP));
      expectClose(replay, live, id);
    }
  });

  it('backfills the history of old minutes ingested while it runs, once they stop arriving', async () => {
    const h = await harness();
    await h.evaluator.tick();
    expect(await storedHistory(h.db, 'api-availability')).toHaveLength(1);
    const days = traffic(T0, 3);
    // The demo's seed, or an import: old minutes arrive in batches over several ticks.
    for (const day of [0, 1, 2]) {
      h.clock.ms += 1_000;
      const fromMs = T0 - (3 - day) * DAY;
      await h.minutes.growMany(
        days.filter((b) => b.minuteMs >= fromMs && b.minuteMs < fromMs + DAY),
        h.clock.ms,
      );
      await h.evaluator.tick();
      // Still arriving: nothing replayed yet (a replay now would keep points of half the data).
      expect(await storedHistory(h.db, 'api-availability')).toHaveLength(1);
    }
    await tickUntilSettled(h, h.evaluator, 1_000);
    // The point at T0 was computed live before any minute was stored, and is kept.
    await expectHistoryMatchesReference(h, everySlo(T0 - 3 * DAY + STEP, T0), T0 - STEP);
  });

  it('backfills the history of an SLO added to the specs over stored minutes, once', async () => {
    const h = await harness();
    await h.minutes.growMany(traffic(T0, 2), T0 - 10 * MIN);
    h.specs.catalog = testCatalog(['service', 'sli-api', 'sli-web', 'maintenance', 'api-availability']);
    await tickUntilSettled(h);
    expect(await storedHistory(h.db, 'api-slices')).toEqual([]);
    const apiBefore = await storedHistory(h.db, 'api-availability');

    h.clock.ms += 30_000;
    h.specs.catalog = testCatalog();
    h.specs.version = 2;
    await tickUntilSettled(h);
    await expectHistoryMatchesReference(h, everySlo(T0 - 2 * DAY + STEP, T0));
    expect(await storedHistory(h.db, 'api-availability')).toEqual(apiBefore);

    // A changed objective keeps the points it has (computed with the old one): nothing is missing.
    h.clock.ms += 30_000;
    const edited = Object.entries(SPEC_DOCUMENTS).map(([name, doc]) =>
      name === 'api-availability' ? doc.replace('target: 0.99', 'target: 0.98') : doc,
    );
    h.specs.catalog = loadSpecText('edited.yaml', edited.join('---\n')).catalog;
    h.specs.version = 3;
    const countBefore = h.ticks.length;
    await tickUntilSettled(h);
    const since = h.ticks.slice(countBefore);
    expect(since.reduce((n, t) => n + (t.historyChecked ?? 0), 0)).toBe(1);
    expect(since.reduce((n, t) => n + (t.historyPoints ?? 0), 0)).toBe(0);
  });

  it('keeps evaluating when the history backfill fails, and retries it on a later tick', async () => {
    const h = await harness({ backfillSecondsPerTick: 0 });
    await h.minutes.growMany(traffic(T0, 1), T0 - 10 * MIN);
    await h.evaluator.tick(); // the 'api' stream; the live point at T0
    // The history table cannot be read: the next tick (same step, no live point to write) backfills
    // the 'web' stream and writes the statuses, and its history check fails.
    await h.db.kysely.schema.alterTable('slo_history').renameTo('slo_history_away').execute();
    h.clock.ms += 30_000;
    await h.evaluator.tick();
    expect(await countOf(h.metrics, 'ok')).toBe(2);
    expect(await countOf(h.metrics, 'error')).toBe(0);
    await expectMatchesReport(h);
    await h.db.kysely.schema.alterTable('slo_history_away').renameTo('slo_history').execute();
    await tickUntilSettled(h, h.evaluator, 1_000);
    await expectHistoryMatchesReference(h, everySlo(T0 - DAY + STEP, T0));
  });

  it('backfills at most the configured days, or a longer period', async () => {
    const h = await harness({ historyBackfillDays: 1 });
    await h.minutes.growMany(traffic(T0, 3), T0 - 10 * MIN);
    await tickUntilSettled(h);
    // One day for the rolling day, three (all there is) for the calendar month.
    const first = async (id: string) => (await storedHistory(h.db, id))[0]?.tsMs;
    expect(await first('api-availability')).toBe(T0 - DAY);
    expect(await first('shop-composite')).toBe(T0 - DAY);
    expect(await first('web-month/most')).toBe(T0 - 3 * DAY + STEP);

    const off = await harness({ historyBackfillDays: 0 });
    await off.minutes.growMany(traffic(T0, 1), T0 - 10 * MIN);
    await tickUntilSettled(off);
    expect((await storedHistory(off.db, 'web-month/most')).map((p) => p.tsMs)).toEqual([T0]);
  });

  it('keeps the last stored status when a tick fails, and never runs two ticks at once', async () => {
    // The first tick is held after it has read its minutes, while more are stored.
    let holdFirst: (() => void) | undefined;
    let firstHasRead: () => void = () => {};
    const firstRead = new Promise<void>((resolve) => {
      firstHasRead = resolve;
    });
    const held = new Promise<void>((resolve) => {
      holdFirst = resolve;
    });
    let reads = 0;
    const h = await harness(
      {},
      {
        afterRead: async () => {
          if (++reads > 1) return;
          firstHasRead();
          await held;
        },
      },
    );
    await h.minutes.growMany(traffic(T0, 1), T0 - 10 * MIN);
    // Calls during a tick share one tick queued behind it, which sees what was stored meanwhile.
    const first = h.evaluator.tick();
    await firstRead;
    await h.minutes.growMany(traffic(T0 - 1_440 * MIN, 1), T0 - 5 * MIN);
    const [second, third] = [h.evaluator.tick(), h.evaluator.tick()];
    expect(second).not.toBe(first);
    expect(second).toBe(third);
    holdFirst?.();
    await second;
    expect(await countOf(h.metrics, 'ok')).toBe(2);
    await expectMatchesReport(h);
    const good = (await getStatus(h.db, 'api-availability')) as StoredStatus;

    // The feed's table vanishing stands in for a database that cannot be read.
    await h.db.kysely.schema.alterTable('sli_minutes').renameTo('sli_minutes_away').execute();
    h.clock.ms += 30_000;
    await expect(h.evaluator.tick()).resolves.toBeUndefined();
    expect(await countOf(h.metrics, 'error')).toBe(1);
    expect(await getStatus(h.db, 'api-availability')).toEqual(good);
    h.clock.ms += 90_000;
    expect(isStale(good.evaluatedAt, h.clock.ms, 30)).toBe(true);
    expect(isStale(good.evaluatedAt, T0 + 60_000, 30)).toBe(false);

    await h.db.kysely.schema.alterTable('sli_minutes_away').renameTo('sli_minutes').execute();
    await h.evaluator.tick();
    expect(await countOf(h.metrics, 'ok')).toBe(3);
    await expectMatchesReport(h);
  });
});

describe('leader election', () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step().catch(() => {});
  });

  it('lets the SQLite process always evaluate and refuses PostgreSQL without an election', async () => {
    const sqlite = await createTestDatabase('sqlite');
    const postgres = await createTestDatabase('postgres');
    const dbs = [openDatabase(sqlite.url), openDatabase(postgres.url)];
    cleanup.push(async () => {
      for (const db of dbs) await db.close();
      await sqlite.drop();
      await postgres.drop();
    });
    const deps = {
      clock: { now: () => T0 },
      log: silent,
      specs: () => ({ catalog: testCatalog(), version: 1 }),
    };
    const config = { tickSeconds: 30, historyStepSeconds: 300 };
    const metrics = createMetrics();
    const onSqlite = new Evaluator({ ...deps, db: dbs[0]!, metrics, config });
    expect(onSqlite.isLeader()).toBe(false);
    await onSqlite.start();
    expect(onSqlite.isLeader()).toBe(true);
    expect((await metrics.leader.get()).values[0]?.value).toBe(1);
    await onSqlite.stop();
    expect(() => new Evaluator({ ...deps, db: dbs[1]!, metrics: createMetrics(), config })).toThrow(
      /leader election/,
    );
  });

  it('on PostgreSQL, exactly one of two replicas evaluates, and the other takes over when its connection dies', async () => {
    const testDb = await createTestDatabase('postgres');
    const setup = openDatabase(testDb.url);
    await migrateToLatest(setup.kysely);
    await new Minutes(setup).growMany(traffic(Date.now(), 1), Date.now() - 10 * MIN);
    cleanup.push(async () => {
      await setup.close();
      await testDb.drop();
    });

    const retrySeconds = 0.3;
    const replicas = [0, 1].map((n) => {
      const db = openDatabase(testDb.url);
      const metrics = createMetrics();
      const replica = {
        n,
        metrics,
        clients: [] as pg.Client[],
        /** A crashed process cannot open connections any more. */
        crashed: false,
        leader: new PgLeadership({
          retrySeconds,
          log: silent,
          metrics,
          connect: async () => {
            if (replica.crashed) throw new Error('this replica has crashed');
            const client = new pg.Client({ connectionString: testDb.url });
            await client.connect();
            replica.clients.push(client);
            return client;
          },
        }),
        evaluator: undefined as unknown as Evaluator,
      };
      replica.evaluator = new Evaluator({
        db,
        clock: { now: () => Date.now() },
        log: silent,
        metrics,
        specs: () => ({ catalog: testCatalog(), version: 1 }),
        config: { tickSeconds: 0.1, historyStepSeconds: 300 },
        leader: replica.leader,
      });
      cleanup.push(async () => {
        await replica.evaluator.stop();
        await db.close();
      });
      return replica;
    });
    type Replica = (typeof replicas)[number];
    const leaders = () => replicas.filter((r) => r.evaluator.isLeader());
    const otherThan = (r: Replica) => replicas.find((x) => x !== r)!;
    const lockClient = (r: Replica) => r.clients.at(-1)!;
    const gauge = async (r: Replica) => (await r.metrics.leader.get()).values[0]?.value ?? 0;
    for (const r of replicas) await r.evaluator.start();

    await waitFor(() => leaders().length === 1, 5_000);
    const first = leaders()[0]!;
    await waitFor(async () => (await countOf(first.metrics, 'ok')) >= 3, 10_000);
    for (let i = 0; i < 10; i++) {
      expect(leaders()).toEqual([first]);
      await sleep(50);
    }
    expect(await countOf(otherThan(first).metrics, 'ok')).toBe(0);
    expect(await gauge(otherThan(first))).toBe(0);
    expect(await gauge(first)).toBe(1);

    // The server ends the leader's session (a database failover, an admin): it steps down at once
    // and one replica (either) holds the lock again within a retry.
    const steppedDown = new Promise<void>((resolve) => first.leader.onChange((lead) => !lead && resolve()));
    const admin = new pg.Client({ connectionString: testDb.url });
    await admin.connect();
    await admin.query('SELECT pg_terminate_backend($1)', [await backendPid(lockClient(first))]);
    await admin.end();
    await steppedDown;
    await waitFor(() => leaders().length === 1, 5_000);

    // Crash: the leader's process is gone, and with it its connection; the server frees the lock.
    const crashed = leaders()[0]!;
    const survivor = otherThan(crashed);
    const survivorOk = await countOf(survivor.metrics, 'ok');
    const crashedAt = Date.now();
    crashed.crashed = true;
    lockClient(crashed).connection.stream.destroy();
    await waitFor(() => survivor.evaluator.isLeader(), 10_000);
    expect(Date.now() - crashedAt).toBeLessThan(retrySeconds * 1000 + 2_000);
    expect(crashed.evaluator.isLeader()).toBe(false);
    await waitFor(async () => (await countOf(survivor.metrics, 'ok')) >= survivorOk + 2, 10_000);
    const crashedOk = await countOf(crashed.metrics, 'ok');
    await sleep(500);
    expect(await countOf(crashed.metrics, 'ok')).toBe(crashedOk);
    expect(leaders()).toEqual([survivor]);
    const statuses = await listStatuses(setup);
    expect([...statuses.keys()].sort()).toEqual([...ALL_SLOS].sort());
    for (const status of statuses.values())
      expect(Date.parse(status.evaluatedAt)).toBeGreaterThanOrEqual(crashedAt);

    // The crashed replica comes back as a follower; a clean stop of the leader hands over at once.
    crashed.crashed = false;
    await sleep(2 * retrySeconds * 1000);
    expect(leaders()).toEqual([survivor]);
    await survivor.evaluator.stop();
    await waitFor(() => crashed.evaluator.isLeader(), 5_000);
  });
});

async function backendPid(client: pg.Client): Promise<number> {
  const result = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  return result.rows[0]!.pid;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(20);
  }
}
