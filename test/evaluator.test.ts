import pg from 'pg';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Clock } from '../src/platform/clock.js';
import { type Db, openDatabase } from '../src/platform/db/database.js';
import { migrateToLatest } from '../src/platform/db/migrations.js';
import { createMetrics, type ShinraiMetrics } from '../src/platform/metrics.js';
import { budgetReport } from '../src/slo/budget-report.js';
import type { CountRow } from '../src/slo/data-file.js';
import { Evaluator, type EvaluatorConfig } from '../src/slo/evaluator/evaluator.js';
import { createLeaderElection, PgLeadership } from '../src/slo/evaluator/leader.js';
import { getStatus, history, isStale, listStatuses, type StoredStatus } from '../src/slo/evaluator/read.js';
import type { Catalog } from '../src/slo/model.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from './support/databases.js';
import { expectClose, SPEC_DOCUMENTS, testCatalog } from './support/evaluator-specs.js';

const MIN = 60_000;
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
    for (let i = 0; i < batch.length; i += 1_000) {
      const values = batch.slice(i, i + 1_000).map((b) => ({
        sli: b.sli,
        minute_ts: b.minuteMs,
        good: b.good,
        total: b.good + b.bad,
        updated_at: updatedAtMs,
      }));
      await this.db.kysely
        .insertInto('sli_minutes')
        .values(values)
        .onConflict((oc) =>
          oc.columns(['sli', 'minute_ts']).doUpdateSet((eb) => ({
            good: eb('sli_minutes.good', '+', eb.ref('excluded.good')),
            total: eb('sli_minutes.total', '+', eb.ref('excluded.total')),
            updated_at: eb.ref('excluded.updated_at'),
          })),
        )
        .execute();
    }
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

  async function harness(config: Partial<EvaluatorConfig> = {}): Promise<Harness> {
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
    const metrics = createMetrics();
    const leader =
      dialect === 'postgres'
        ? createLeaderElection({ db, url: testDb.url, retrySeconds: 1, log: silent, metrics })
        : undefined;
    const evaluator = new Evaluator({
      db,
      clock,
      log: silent,
      metrics,
      specs: () => specs,
      config: { tickSeconds: 30, historyStepSeconds: 300, ...config },
      leader,
    });
    // No start(): the tests drive ticks themselves; the election is started for PostgreSQL.
    await leader?.start();
    cleanup.push(async () => evaluator.stop());
    return { db, minutes: new Minutes(db), clock, specs, metrics, evaluator };
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
    const rows = await h.db.kysely
      .selectFrom('slo_history')
      .selectAll()
      .where('slo_id', '=', 'api-availability')
      .orderBy('ts')
      .execute();
    expect(rows.map((r) => Number(r.ts))).toEqual(Array.from({ length: 13 }, (_, s) => T0 + s * 5 * MIN));
    const counted = await h.db.kysely
      .selectFrom('slo_history')
      .select((eb) => eb.fn.countAll().as('n'))
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

  it('keeps the last stored status when a tick fails, and never runs two ticks at once', async () => {
    const h = await harness();
    await h.minutes.growMany(traffic(T0, 2), T0 - 10 * MIN);
    const [first, second] = [h.evaluator.tick(), h.evaluator.tick()];
    expect(first).toBe(second);
    await first;
    expect(await countOf(h.metrics, 'ok')).toBe(1);
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
    expect(await countOf(h.metrics, 'ok')).toBe(2);
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
