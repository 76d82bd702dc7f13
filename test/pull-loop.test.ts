/**
 * The pull loop against the port alone: a scripted source (a test's own SliSource, registered
 * nowhere else) gets first loads, chunking, incremental pulls, rate-limit waits, backoff and
 * "no data since T" from the loop without a line of its own — what every real source relies on.
 * Real databases (SQLite and PostgreSQL); the source is the only stand-in, since it is the seam.
 */
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Db, migrateToLatest, openDatabase } from '../src/platform/db/index.js';
import { Egress } from '../src/platform/egress.js';
import { createMetrics, type ShinraiMetrics } from '../src/platform/metrics.js';
import { loadSpecText, readMinutes } from '../src/slo/index.js';
import {
  MINUTE_MS,
  type MinuteRange,
  planPulls,
  SliPuller,
  type SliSource,
  SourceQueryError,
} from '../src/slo/sources/index.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from './support/databases.js';
import { ManualClock } from './support/server.js';

const T = Date.UTC(2026, 10, 20, 12, 0);
const HOUR = 60 * MINUTE_MS;

const SPECS = `apiVersion: openslo/v1
kind: DataSource
metadata: { name: script }
spec:
  type: Scripted
  connectionDetails: { url: http://scripted.invalid }
---
apiVersion: openslo/v1
kind: SLO
metadata: { name: api }
spec:
  service: api
  budgetingMethod: Occurrences
  timeWindow: [{ duration: 1d, isRolling: true }]
  indicator:
    metadata: { name: api-requests }
    spec:
      ratioMetric:
        good: { metricSource: { metricSourceRef: script, spec: { query: good } } }
        total: { metricSource: { metricSourceRef: script, spec: { query: total } } }
  objectives: [{ target: 0.99 }]
`;

/** What the scripted backend holds and how it behaves; every call is recorded. */
class Script {
  calls: Array<{ query: string; range: MinuteRange }> = [];
  /** Throws this on the next calls (consumed one per call), then answers. */
  failures: SourceQueryError[] = [];
  /** Fails every call while set. */
  down: SourceQueryError | undefined;
  /** Minutes with data: [from, to) — 10 total, 9 good a minute. */
  dataUntilMs = Number.POSITIVE_INFINITY;
  /** Good counts of some minutes instead of 9 (late samples changing a minute already read). */
  good = new Map<number, number>();

  source(): SliSource {
    return {
      kind: 'scripted',
      types: ['scripted'],
      maxChunkMinutes: 300,
      requiredConnection: ['url'],
      minuteQuery: (metric) =>
        typeof metric.spec.query === 'string' ? { query: metric.spec.query } : { problem: 'no query' },
      connect: async () => ({
        fetchMinutes: async (query, range) => {
          this.calls.push({ query, range });
          const failure = this.down ?? this.failures.shift();
          if (failure) throw failure;
          const points: Array<readonly [number, number]> = [];
          for (let ms = range.fromMs; ms < Math.min(range.toMs, this.dataUntilMs); ms += MINUTE_MS)
            points.push([ms, query === 'good' ? (this.good.get(ms) ?? 9) : 10]);
          return [{ labels: {}, points }];
        },
        close: async () => {},
      }),
    };
  }
}

describe.each(DIALECTS)('the pull loop on %s, through the port only', (dialect) => {
  let database: TestDatabase;
  let db: Db;
  let script: Script;
  let clock: ManualClock;
  let metrics: ShinraiMetrics;
  let puller: SliPuller;
  const catalog = loadSpecText('scripted.yaml', SPECS).catalog;

  beforeEach(async () => {
    database = await createTestDatabase(dialect);
    db = openDatabase(database.url);
    await migrateToLatest(db.kysely);
    script = new Script();
    clock = new ManualClock(T);
    metrics = createMetrics();
    puller = new SliPuller({
      db,
      clock,
      log: pino({ level: 'silent' }),
      metrics,
      specs: () => ({ catalog, version: 1 }),
      sources: [script.source()],
      config: {
        intervalSeconds: 60,
        delaySeconds: 0,
        overlapMinutes: 5,
        timeoutSeconds: 5,
        concurrency: 2,
        retries: 2,
        retryMinSeconds: 0.01,
        maxBackoffSeconds: 600,
      },
      isLeader: () => true,
      egress: new Egress({ allow: [] } as never),
    });
  });

  afterEach(async () => {
    await puller.stop();
    await db.close();
    await database.drop();
  });

  const storageKey = () =>
    planPulls(catalog, [script.source()], { defaultUrl: false }).slis[0]!.streams[0]!.storageKey;
  const stored = async () => readMinutes(db, storageKey(), T - 30 * 24 * HOUR, T + 24 * HOUR);

  it('loads the period in chunks of the source limit, then reads only what is new', async () => {
    const first = await puller.cycle();
    expect(first).toMatchObject({ slis: 1, pulled: 1, failed: 0 });
    const ranges = script.calls.filter((c) => c.query === 'total').map((c) => c.range);
    // Contiguous chunks of at most 300 minutes covering the day (plus margin) up to the head.
    for (const [i, r] of ranges.entries()) {
      expect(r.toMs - r.fromMs).toBeLessThanOrEqual(300 * MINUTE_MS);
      if (i > 0) expect(r.fromMs).toBe(ranges[i - 1]!.toMs);
    }
    expect(ranges.at(-1)!.toMs).toBe(T);
    expect(ranges[0]!.fromMs).toBeLessThanOrEqual(T - 24 * HOUR);
    const minutes = await stored();
    expect(minutes.length).toBe((T - ranges[0]!.fromMs) / MINUTE_MS);
    expect(minutes.every((m) => m.good === 9 && m.total === 10)).toBe(true);

    script.calls = [];
    clock.ms = T + 3 * MINUTE_MS;
    await puller.cycle();
    // The overlap (5 minutes before the cursor) up to the new head, in one query per role.
    expect(script.calls.map((c) => c.range)).toEqual([
      { fromMs: T - 5 * MINUTE_MS, toMs: T + 3 * MINUTE_MS },
      { fromMs: T - 5 * MINUTE_MS, toMs: T + 3 * MINUTE_MS },
    ]);
  });

  it('writes only the re-read minutes that changed, unless another writer stored the cursor', async () => {
    await puller.cycle();
    clock.ms = T + 3 * MINUTE_MS;
    // A late sample changed a minute the overlap reads again.
    script.good.set(T - 2 * MINUTE_MS, 7);
    const summary = await puller.cycle();
    // The 3 new minutes and the changed one; the 4 re-read minutes that did not change are not written.
    expect(summary).toMatchObject({ pulled: 1, minutes: 4 });
    const at = async (ms: number) => (await stored()).find((m) => m.minuteMs === ms);
    expect(await at(T - 2 * MINUTE_MS)).toMatchObject({ good: 7, total: 10 });

    // Another leader stored this SLI meanwhile (its own cursor) and a minute differs: all re-read minutes are written.
    await db.kysely
      .updateTable('sli_minutes')
      .set({ good: 1 })
      .where('sli', '=', storageKey())
      .where('minute_ts', '=', T + MINUTE_MS)
      .execute();
    await db.kysely
      .updateTable('source_cursors')
      .set({ last_success_at: T + 4 * MINUTE_MS })
      .execute();
    clock.ms = T + 4 * MINUTE_MS;
    expect(await puller.cycle()).toMatchObject({ pulled: 1, minutes: 6 });
    expect(await at(T + MINUTE_MS)).toMatchObject({ good: 9, total: 10 });
  });

  it('waits as long as a rate limit asks, then gets the answer', async () => {
    script.failures = [new SourceQueryError('rate_limited', 'slow down', 429, 150)];
    const started = performance.now();
    const summary = await puller.cycle();
    expect(summary).toMatchObject({ pulled: 1, failed: 0 });
    // The wait is the source's, not the loop's 10 ms first retry (a lower bound, not a timing test).
    expect(performance.now() - started).toBeGreaterThanOrEqual(150);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(
      /shinrai_source_queries_total\{type="scripted",source="script",outcome="rate_limited"\} 1/,
    );
  });

  it('asks a refused query again after a growing wait, not every cycle', async () => {
    script.failures = [new SourceQueryError('bad_query', 'refused')];
    expect(await puller.cycle()).toMatchObject({ failed: 1 });
    expect(script.calls).toHaveLength(1);
    // Same instant: backing off, nothing asked, the failure still on the SLI.
    expect(await puller.cycle()).toMatchObject({ failed: 0, skipped: 1 });
    expect(script.calls).toHaveLength(1);
    const state = (await puller.dataStates()).get(storageKey());
    expect(state).toMatchObject({ state: 'no-data', failures: 1, lastError: 'refused' });
    // After the interval it is asked again and, answering, loads.
    clock.ms = T + 61_000;
    expect(await puller.cycle()).toMatchObject({ pulled: 1 });
    expect((await puller.dataStates()).get(storageKey())).toMatchObject({ state: 'ok', failures: 0 });
  });

  it('says "no data since T" while the source is down, then catches up', async () => {
    await puller.cycle();
    script.down = new SourceQueryError('unavailable', 'answered 503');
    clock.ms = T + 10 * MINUTE_MS;
    await puller.cycle();
    const down = (await puller.dataStates()).get(storageKey());
    expect(down).toMatchObject({
      source: 'scripted:script',
      state: 'no-data',
      since: new Date(T).toISOString(),
      retrying: true,
      lastError: 'answered 503',
    });
    expect(await metrics.registry.metrics()).toMatch(
      /shinrai_source_up\{type="scripted",source="script"\} 0/,
    );

    script.down = undefined;
    clock.ms = T + 30 * MINUTE_MS;
    await puller.cycle();
    expect((await puller.dataStates()).get(storageKey())).toMatchObject({ state: 'ok' });
    const minutes = await stored();
    expect(minutes.at(-1)!.minuteMs).toBe(T + 29 * MINUTE_MS);
    expect(await metrics.registry.metrics()).toMatch(
      /shinrai_source_up\{type="scripted",source="script"\} 1/,
    );
  });

  it('stores no minute for a minute the source has no data for', async () => {
    script.dataUntilMs = T - 30 * MINUTE_MS;
    await puller.cycle();
    const minutes = await stored();
    expect(minutes.at(-1)!.minuteMs).toBe(T - 31 * MINUTE_MS);
  });
});
