/**
 * The pull loop's shared queries against a real Prometheus: SLIs with the same query read one
 * answer, and SLIs that differ only by a label value (Sloth SLOs of several jobs) read one query
 * grouped `by (job)`. The minutes stored must be exactly those each SLI's own query gives (a
 * puller whose source groups nothing is the reference), later pulls must ask only for the new
 * minutes and the overlap, a Prometheus dying mid-cycle must lose nothing, and one SLI whose query
 * Prometheus refuses must not stop the others. Both databases.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Db, migrateToLatest, openDatabase } from '../src/platform/db/index.js';
import { Egress, parseEgressAllow } from '../src/platform/egress.js';
import { createMetrics } from '../src/platform/metrics.js';
import { loadSpecText } from '../src/slo/index.js';
import {
  MINUTE_MS,
  type MinuteRange,
  SliPuller,
  type SliSource,
  SOURCES,
  SourceQueryError,
} from '../src/slo/sources/index.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from './support/databases.js';
import {
  backfillOpenMetrics,
  generateRequestCounters,
  type PrometheusServer,
  prometheusAvailable,
  startPrometheus,
} from './support/prometheus.js';
import { ManualClock } from './support/server.js';
import { prometheusSloYaml } from './support/specs.js';

const HOUR = 60 * MINUTE_MS;
const T = Date.UTC(2026, 9, 10, 12, 0);
/** Job names with regex metacharacters: a grouped query must match each one literally. */
const JOBS = ['checkout', 'api.v2', 'apixv2', 'search(1)'];

const sloth = (job: string, i: number) => `version: prometheus/v1
service: svc${i}
slos:
${[99.9, 99.5]
  .map(
    (objective) => `  - name: o${String(objective).replace('.', '')}
    objective: ${objective}
    sli:
      events:
        error_query: sum(rate(http_requests_total{job="${job}",code="500"}[{{.window}}]))
        total_query: sum(rate(http_requests_total{job="${job}"}[{{.window}}]))
    alerting: { page_alert: { disable: true }, ticket_alert: { disable: true } }
`,
  )
  .join('')}`;

const allowed = parseEgressAllow(['127.0.0.1']);
if (!allowed.ok) throw new Error('bad egress policy');
const egress = new Egress(allowed.policy);

const prometheusSource = SOURCES.find((s) => s.kind === 'prometheus')!;
/** The reference: every SLI's own query, as written (identical queries are still asked once). */
const ungrouped: SliSource = { ...prometheusSource, groupQueries: undefined };

describe.skipIf(!prometheusAvailable())('shared Prometheus queries', () => {
  let prometheus: PrometheusServer;
  let work: string;
  let catalogs: (url: string, extra?: string) => ReturnType<typeof loadSpecText>['catalog'];

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'shinrai-prom-pull-'));
    const data = generateRequestCounters({
      jobs: JOBS.map((job, i) => ({
        job,
        instances: ['a', 'b'],
        rps: (ms: number) => (5 + 3 * i) * (1 + 0.1 * Math.sin((2 * Math.PI * ms) / (24 * HOUR))),
        errorRatio: (ms: number) => (i === 1 && ms > T - 5 * HOUR && ms < T - 4 * HOUR ? 0.05 : 0.002),
        ...(i === 0 ? { resetsAt: [T - 20 * HOUR + 17_000] } : {}),
      })),
      startMs: T - 2 * 24 * HOUR,
      endMs: T + 2 * HOUR,
      scrapeSeconds: 15,
      seed: 19,
    });
    await backfillOpenMetrics(data.openMetrics, join(work, 'tsdb'));
    prometheus = await startPrometheus({ dataDir: join(work, 'tsdb') });
    catalogs = (url, extra = '') => {
      const docs = [
        ...JOBS.map((job, i) => sloth(job, i)),
        // Counter SLIs through a DataSource: `sum(increase(…[1m]))`, grouped by job too.
        ...JOBS.slice(0, 2).map((job, i) =>
          prometheusSloYaml(`counted${i}`, {
            source: 'main',
            ...(i === 0 ? { url } : {}),
            sli: `counted${i}-requests`,
            good: `http_requests_total{job="${job}",code="200"}`,
            total: `http_requests_total{job="${job}"}`,
            window: '7d',
          }),
        ),
        ...(extra ? [extra] : []),
      ];
      const loaded = loadSpecText('specs.yaml', docs.join('---\n'));
      const errors = loaded.diagnostics.filter((d) => d.severity === 'error');
      if (errors.length) throw new Error(errors.map((d) => d.message).join('; '));
      return loaded.catalog;
    };
  }, 180_000);

  afterAll(async () => {
    await prometheus?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  describe.each(DIALECTS)('on %s', (dialect) => {
    const opened: Array<{ db: Db; database: TestDatabase; puller: SliPuller }> = [];

    afterAll(async () => {
      for (const { db, database, puller } of opened) {
        await puller.stop();
        await db.close();
        await database.drop();
      }
    });

    /** A puller on a fresh database; every range query it sends is recorded. */
    const setUp = async (
      source: SliSource,
      clock: ManualClock,
      options: {
        extraSpec?: string;
        /** Runs before each query is sent (to kill Prometheus, or refuse a query). */
        before?: (query: string, range: MinuteRange, call: number) => Promise<void>;
      } = {},
    ) => {
      const database = await createTestDatabase(dialect);
      const db = openDatabase(database.url);
      await migrateToLatest(db.kysely);
      const calls: Array<{ query: string; range: MinuteRange }> = [];
      const recording: SliSource = {
        ...source,
        connect: async (connection) => {
          const client = await source.connect(connection);
          return {
            fetchMinutes: async (query, range) => {
              calls.push({ query, range });
              await options.before?.(query, range, calls.length);
              return client.fetchMinutes(query, range);
            },
            close: () => client.close(),
          };
        },
      };
      const catalog = catalogs(prometheus.url, options.extraSpec);
      const puller = new SliPuller({
        db,
        clock,
        log: pino({ level: 'silent' }),
        metrics: createMetrics(),
        specs: () => ({ catalog, version: 1 }),
        sources: [recording],
        config: {
          defaultUrl: prometheus.url,
          intervalSeconds: 60,
          delaySeconds: 0,
          overlapMinutes: 5,
          timeoutSeconds: 10,
          concurrency: 2,
          retries: 1,
          retryMinSeconds: 0.01,
          // Several chunks hold data: the first load's waves are exercised too.
          chunkMinutes: 1_000,
        },
        isLeader: () => true,
        egress,
      });
      opened.push({ db, database, puller });
      return { db, puller, calls };
    };

    const minutesOf = async (db: Db) =>
      (
        await db.kysely
          .selectFrom('sli_minutes')
          .select(['sli', 'minute_ts', 'good', 'total'])
          .orderBy('sli')
          .orderBy('minute_ts')
          .execute()
      ).map((r) => [r.sli, Number(r.minute_ts), Number(r.good), Number(r.total)] as const);

    it('stores exactly the minutes each SLI’s own query gives, with one query per group', async () => {
      const clock = new ManualClock(T);
      const shared = await setUp(prometheusSource, clock);
      const alone = await setUp(ungrouped, clock);
      const first = await shared.puller.cycle();
      const reference = await alone.puller.cycle();
      expect(first).toMatchObject({ slis: 10, pulled: 10, failed: 0 });
      expect(reference).toMatchObject({ slis: 10, pulled: 10, failed: 0 });
      const stored = await minutesOf(shared.db);
      // 8 Sloth SLIs and 2 counter SLIs, each with two days of data.
      expect(new Set(stored.map(([sli]) => sli)).size).toBe(10);
      expect(stored.length).toBeGreaterThan(10 * 47 * 60);
      // Bit for bit: the same series summed in the same order.
      expect(stored).toEqual(await minutesOf(alone.db));
      expect(shared.calls.some((c) => c.query.startsWith('sum by (job)'))).toBe(true);
      // A chunk both periods read: 2 grouped Sloth queries + 2 grouped counter queries, not 8 + 4.
      expect(first!.queries).toBeLessThan(reference!.queries / 3);

      // Later pulls: only the new minutes and the overlap (5 minutes before the cursor).
      shared.calls.length = 0;
      clock.advance(3 * MINUTE_MS);
      expect(await shared.puller.cycle()).toMatchObject({ pulled: 10, failed: 0, queries: 4 });
      expect(await alone.puller.cycle()).toMatchObject({ pulled: 10, failed: 0, queries: 12 });
      expect(shared.calls).toHaveLength(4);
      for (const call of shared.calls)
        expect(call.range).toEqual({ fromMs: T - 5 * MINUTE_MS, toMs: T + 3 * MINUTE_MS });
      expect(await minutesOf(shared.db)).toEqual(await minutesOf(alone.db));
    }, 120_000);

    it('loses nothing when Prometheus dies in the middle of a cycle', async () => {
      const clock = new ManualClock(T + HOUR);
      let killed = false;
      const shared = await setUp(prometheusSource, clock, {
        before: async (_query, _range, call) => {
          if (call === 20 && !killed) {
            killed = true;
            await prometheus.kill();
          }
        },
      });
      try {
        const summary = await shared.puller.cycle();
        expect(killed).toBe(true);
        expect(summary!.failed).toBeGreaterThan(0);
        expect(summary!.pulled).toBeLessThan(10);
        const states = [...(await shared.puller.dataStates()).values()];
        expect(states.every((s) => s.state !== 'ok' && s.retrying)).toBe(true);
        expect(states.some((s) => /unreachable|refused/.test(s.lastError ?? ''))).toBe(true);
      } finally {
        await prometheus.start();
      }
      // Past the source's backoff it catches up, to the same minutes as an uninterrupted read.
      clock.advance(2 * MINUTE_MS);
      expect(await shared.puller.cycle()).toMatchObject({ pulled: 10, failed: 0 });
      const alone = await setUp(ungrouped, clock);
      await alone.puller.cycle();
      expect(await minutesOf(shared.db)).toEqual(await minutesOf(alone.db));
      expect([...(await shared.puller.dataStates()).values()].every((s) => s.state === 'ok')).toBe(true);
    }, 120_000);

    it('pulls the others when Prometheus refuses one SLI’s query, or a grouped query', async () => {
      const clock = new ManualClock(T + 30 * MINUTE_MS);
      const bad = prometheusSloYaml('broken', {
        source: 'main',
        sli: 'broken-requests',
        good: 'http_requests_total{job="checkout",code="200"',
        total: 'http_requests_total{job="checkout"}',
      }).replace('counter: true', 'counter: false');
      // A grouped query refused (a sample limit, a proxy's size limit): its members are asked alone.
      const shared = await setUp(prometheusSource, clock, {
        extraSpec: bad,
        before: async (query) => {
          if (query.startsWith('sum by')) throw new SourceQueryError('bad_query', 'too many samples', 422);
        },
      });
      const summary = await shared.puller.cycle();
      expect(summary).toMatchObject({ slis: 11, pulled: 10, failed: 1 });
      const states = await shared.puller.dataStates();
      const broken = [...states].filter(([, s]) => s.state !== 'ok');
      expect(broken).toHaveLength(1);
      expect(broken[0]![1]).toMatchObject({ state: 'no-data', retrying: true });
      expect(broken[0]![1].lastError).toMatch(/refused the query/);
      const alone = await setUp(ungrouped, clock);
      await alone.puller.cycle();
      expect(await minutesOf(shared.db)).toEqual(await minutesOf(alone.db));
    }, 120_000);
  });
});
