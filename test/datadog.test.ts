/**
 * SLIs read from Datadog through the official client (@datadog/datadog-api-client) pointed at a
 * fake that serves the metrics query API's documented shapes (test/support/fake-datadog.ts). The
 * OpenSLO fixture's form of query (`sum:trace.http.request.hits.by_http_status{…}.as_count()`,
 * `counter: true`) is planned into a per-minute rollup; the same counts, exact, are pushed to a
 * reference SLO and must agree. Then: incremental pulls, the rate limit's reset honoured, Datadog
 * down then back, a refused query, egress applied to the SDK's requests, keys never shown.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Egress, parseEgressAllow } from '../src/platform/egress.js';
import { minuteStamp, upsertBuckets } from '../src/slo/ingest/service.js';
import { connectDatadog } from '../src/slo/sources/datadog/index.js';
import type { SourceQueryError } from '../src/slo/sources/port.js';
import { DIALECTS } from './support/databases.js';
import { DATADOG_BODY_SECRET, FakeDatadog } from './support/fake-datadog.js';
import { type JsonBody, json, ManualClock, startTestServer, type TestServer } from './support/server.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const T = Date.UTC(2026, 9, 20, 12, 0);
const DATA_START = T - 2 * DAY;
const DATA_END = T + 3 * HOUR;
/** Ten minutes without any point: Datadog answers null there (partial data); no data, not zero. */
const GAP = { from: T - 3 * HOUR, to: T - 3 * HOUR + 10 * MIN };
const API_KEY = 'dd-api-key-SECRET-0b7a';
const APP_KEY = 'dd-app-key-SECRET-44c2';
const METRIC = 'trace.http.request.hits.by_http_status';

/** Requests of one 20-second point: [ok, errors]. */
function countsOf(ms: number): [number, number] {
  const s = ms / 20_000;
  const incident = ms >= T - 8 * HOUR && ms < T - 7 * HOUR;
  const errors = incident ? 3 : s % 23 === 0 ? 1 : 0;
  return [10 + (s % 5), errors];
}

const specs = (url: string) => `apiVersion: openslo/v1
kind: DataSource
metadata: { name: datadog }
spec:
  type: Datadog
  connectionDetails:
    - url: '${url}'
    - apiKey: '\${SHINRAI_TEST_DD_API_KEY}'
    - appKey: '\${SHINRAI_TEST_DD_APP_KEY}'
---
apiVersion: openslo/v1
kind: DataSource
metadata: { name: datadog-metadata }
spec:
  type: Datadog
  connectionDetails: { url: 'http://169.254.169.254', apiKey: '\${SHINRAI_TEST_DD_API_KEY}', appKey: '\${SHINRAI_TEST_DD_APP_KEY}' }
---
apiVersion: openslo/v1
kind: SLO
metadata: { name: checkout-dd }
spec:
  service: shop
  budgetingMethod: Occurrences
  timeWindow: [{ duration: 1d, isRolling: true }]
  indicator:
    metadata: { name: checkout-dd-requests }
    spec:
      ratioMetric:
        counter: true
        good: { metricSource: { metricSourceRef: datadog, type: Datadog, spec: { query: 'sum:${METRIC}{service:checkout,http.status_code:200}.as_count()' } } }
        total: { metricSource: { metricSourceRef: datadog, type: Datadog, spec: { query: 'sum:${METRIC}{service:checkout}.as_count()' } } }
  objectives: [{ target: 0.99 }]
---
apiVersion: openslo/v1
kind: SLO
metadata: { name: checkout-dd-refused }
spec:
  service: shop
  budgetingMethod: Occurrences
  timeWindow: [{ duration: 1d, isRolling: true }]
  indicator:
    metadata: { name: checkout-dd-refused-requests }
    spec:
      ratioMetric:
        good: { metricSource: { metricSourceRef: datadog, spec: { query: 'max:${METRIC}{service:checkout}.rollup(max, 60)' } } }
        total: { metricSource: { metricSourceRef: datadog, spec: { query: 'sum:${METRIC}{service:checkout}.as_count()' } } }
  objectives: [{ target: 0.99 }]
---
apiVersion: openslo/v1
kind: SLO
metadata: { name: checkout-dd-metadata }
spec:
  service: shop
  budgetingMethod: Occurrences
  timeWindow: [{ duration: 1d, isRolling: true }]
  indicator:
    metadata: { name: checkout-dd-metadata-requests }
    spec:
      ratioMetric:
        good: { metricSource: { metricSourceRef: datadog-metadata, spec: { query: 'sum:${METRIC}{http.status_code:200}.as_count()' } } }
        total: { metricSource: { metricSourceRef: datadog-metadata, spec: { query: 'sum:${METRIC}{*}.as_count()' } } }
  objectives: [{ target: 0.99 }]
---
apiVersion: openslo/v1
kind: SLO
metadata: { name: checkout-exact }
spec:
  service: shop
  budgetingMethod: Occurrences
  timeWindow: [{ duration: 1d, isRolling: true }]
  indicator:
    metadata: { name: checkout-exact-requests }
    spec:
      ratioMetric:
        good: { metricSource: { type: shinrai, spec: {} } }
        total: { metricSource: { type: shinrai, spec: {} } }
  objectives: [{ target: 0.99 }]
`;

describe('SLIs from Datadog (the official client against a fake of the documented query API)', () => {
  const datadog = new FakeDatadog({ apiKey: API_KEY, appKey: APP_KEY });
  let work: string;

  beforeAll(async () => {
    process.env.SHINRAI_TEST_DD_API_KEY = API_KEY;
    process.env.SHINRAI_TEST_DD_APP_KEY = APP_KEY;
    const ok: Array<[number, number]> = [];
    const errors: Array<[number, number]> = [];
    for (let ms = DATA_START; ms < DATA_END; ms += 20_000) {
      if (ms >= GAP.from && ms < GAP.to) continue;
      const [good, bad] = countsOf(ms);
      ok.push([ms, good]);
      if (bad) errors.push([ms, bad]);
    }
    datadog.add(METRIC, ['service:checkout', 'http.status_code:200', 'env:prod'], ok);
    datadog.add(METRIC, ['service:checkout', 'http.status_code:500', 'env:prod'], errors);
    datadog.add(METRIC, ['service:search', 'http.status_code:500'], [[T - HOUR, 1000]]);
    await datadog.start();
    work = await mkdtemp(join(tmpdir(), 'shinrai-datadog-'));
    await mkdir(join(work, 'specs'));
    await writeFile(join(work, 'specs', 'slos.yaml'), specs(datadog.url));
  });

  afterAll(async () => {
    await datadog.stop();
    if (work) await rm(work, { recursive: true, force: true });
    delete process.env.SHINRAI_TEST_DD_API_KEY;
    delete process.env.SHINRAI_TEST_DD_APP_KEY;
  });

  describe.each(DIALECTS)('on %s', (dialect) => {
    let server: TestServer;
    const clock = new ManualClock(T);
    const logs: string[] = [];

    const pushExact = async (fromMs: number) => {
      const db = server.shinrai.ctx.db;
      const buckets = [];
      for (let minuteMs = fromMs; minuteMs < clock.ms; minuteMs += MIN) {
        if (minuteMs >= GAP.from && minuteMs < GAP.to) continue;
        let good = 0;
        let total = 0;
        for (let ms = minuteMs; ms < minuteMs + MIN; ms += 20_000) {
          const [ok, bad] = countsOf(ms);
          good += ok;
          total += ok + bad;
        }
        buckets.push({ storageKey: 'checkout-exact-requests', minuteMs, good, total });
      }
      await upsertBuckets(db.kysely, buckets, minuteStamp(db, clock.ms));
    };

    beforeAll(async () => {
      // The server's pull loop starts at once: the first test's "whole period" check reads every
      // request this server made, so the log is cleared before it starts, not inside the test.
      datadog.requests.length = 0;
      server = await startTestServer(dialect, {
        specs: join(work, 'specs'),
        clock,
        anonymousRead: true,
        log: pino({ level: 'debug' }, { write: (line: string) => logs.push(line) }),
        config: {
          'prometheus.retries': 1,
          'prometheus.delaySeconds': 0,
          'prometheus.intervalSeconds': 60,
          'prometheus.timeoutSeconds': 2,
          'egress.allow': ['127.0.0.1'],
        },
      });
      await pushExact(DATA_START);
    }, 60_000);

    afterAll(async () => {
      await server?.close();
    });

    const status = async (id: string): Promise<JsonBody> =>
      (await json(server.request('GET', `/api/v1/slos/${id}`))).status[0];

    /** Pulls until checkout-dd is current (two SLIs fail on every pull by design), then evaluates. */
    const catchUp = async () => {
      for (let i = 0; i < 5; i++) {
        const summary = await server.shinrai.puller.cycle();
        if (summary && summary.pulled === 1 && summary.skipped <= 1) break;
      }
      for (let i = 0; i < 10; i++) await server.shinrai.evaluator.tick();
    };

    it('loads the whole period on first pull and agrees with the exact counts, gaps included', async () => {
      await catchUp();
      const exact = await status('checkout-exact');
      expect(exact.budget.remaining).toBeLessThan(0.9);
      const pulled = await status('checkout-dd');
      expect(pulled.data).toMatchObject({ state: 'ok', retrying: false, source: 'datadog:datadog' });
      expect(pulled.period).toEqual(exact.period);
      expect(pulled.sli).toBeCloseTo(exact.sli, 12);
      expect(pulled.budget.remaining).toBeCloseTo(exact.budget.remaining, 12);
      expect(pulled.budget.total).toBe(exact.budget.total);
      for (const [window, rate] of Object.entries(exact.burnRates as Record<string, number>))
        expect(pulled.burnRates[window], `burn rate ${window}`).toBeCloseTo(rate, 9);
      const ranges = datadog.ranges();
      expect(Math.min(...ranges.map(([from]) => from))).toBeLessThanOrEqual(Date.parse(exact.period.start));
      expect(Math.max(...ranges.map(([, to]) => to))).toBe(T);
      for (const [from, to] of ranges) expect(to - from).toBeLessThanOrEqual(DAY);
      const queries = datadog.requests.map((r) => r.params.get('query'));
      expect(queries).toContain(`sum:${METRIC}{service:checkout}.as_count().rollup(sum, 60)`);
      for (const r of datadog.requests) {
        expect(r.headers['dd-api-key']).toBe(API_KEY);
        expect(r.headers['dd-application-key']).toBe(APP_KEY);
      }
    }, 60_000);

    it('says why Datadog refused a query, without repeating its body', async () => {
      const refused = await status('checkout-dd-refused');
      expect(refused.data).toMatchObject({ state: 'no-data' });
      expect(refused.data.lastError).toBe(
        `${datadog.url} refused the query (HTTP 400 Bad Request); try spec.query in a Datadog notebook to see why`,
      );
    });

    it("sends the SDK's requests through the egress policy", async () => {
      const refused = await status('checkout-dd-metadata');
      expect(refused.data).toMatchObject({ state: 'no-data' });
      expect(refused.data.lastError).toMatch(
        /^egress refused: 169\.254\.169\.254 is a link-local or metadata address/,
      );
    });

    it('pulls only the new minutes (and the overlap) next time', async () => {
      datadog.requests.length = 0;
      clock.advance(10 * MIN);
      await server.shinrai.puller.cycle();
      const own = datadog.requests.filter((r) =>
        r.params.get('query')?.endsWith('.as_count().rollup(sum, 60)'),
      );
      expect(
        own.map((r) => [Number(r.params.get('from')) * 1000, Number(r.params.get('to')) * 1000]),
      ).toEqual([
        [T - 5 * MIN, T + 10 * MIN],
        [T - 5 * MIN, T + 10 * MIN],
      ]);
    });

    it('waits for X-RateLimit-Reset, then reads', async () => {
      datadog.requests.length = 0;
      datadog.rateLimit(1, 1);
      clock.advance(5 * MIN);
      await server.shinrai.puller.cycle();
      const limited = datadog.requests.findIndex((r) => r.status === 429);
      expect(limited).toBeGreaterThanOrEqual(0);
      const query = datadog.requests[limited]!.params.get('query');
      expect(datadog.requests.slice(limited + 1).find((r) => r.params.get('query') === query)?.status).toBe(
        200,
      );
      await server.shinrai.evaluator.tick();
      expect((await status('checkout-dd')).data).toMatchObject({ state: 'ok', failures: 0 });
      const metrics = await (await server.request('GET', '/metrics')).text();
      expect(metrics).toMatch(
        /shinrai_source_queries_total\{type="datadog",source="datadog",outcome="rate_limited"\} [1-9]/,
      );
      expect(metrics).toMatch(
        /shinrai_source_queries_total\{type="datadog",source="datadog",outcome="ok"\} [1-9]/,
      );
      expect(metrics).toMatch(/shinrai_source_up\{type="datadog",source="datadog"\} 1/);
    });

    it('says "no data since T" while Datadog fails, holds the status, then catches up', async () => {
      await catchUp();
      const before = await status('checkout-dd');
      datadog.fail(1000);
      try {
        clock.advance(30 * MIN);
        const summary = await server.shinrai.puller.cycle();
        expect(summary).toMatchObject({ pulled: 0 });
        await server.shinrai.evaluator.tick();
        const down = await status('checkout-dd');
        expect(down.data).toMatchObject({ state: 'no-data', retrying: true, since: before.period.end });
        expect(down.data.lastError).toBe(`${datadog.url} could not answer (HTTP 503 Service Unavailable)`);
        expect(down.budget).toEqual(before.budget);
        const metrics = await (await server.request('GET', '/metrics')).text();
        expect(metrics).toMatch(
          /shinrai_source_queries_total\{type="datadog",source="datadog",outcome="unavailable"\} [1-9]/,
        );
        expect(metrics).toMatch(/shinrai_source_up\{type="datadog",source="datadog"\} 0/);
      } finally {
        datadog.fail(0);
      }
      clock.advance(2 * HOUR);
      await catchUp();
      await pushExact(T);
      for (let i = 0; i < 3; i++) await server.shinrai.evaluator.tick();
      const back = await status('checkout-dd');
      expect(back.data).toMatchObject({ state: 'ok', retrying: false, failures: 0 });
      const exact = await status('checkout-exact');
      expect(back.period).toEqual(exact.period);
      expect(back.sli).toBeCloseTo(exact.sli, 12);
      expect(back.budget.remaining).toBeCloseTo(exact.budget.remaining, 12);
    }, 60_000);

    it('never shows a key or a Datadog error body in logs, errors or API answers', async () => {
      const answers = [
        await (await server.request('GET', '/api/v1/slos/checkout-dd')).text(),
        await (await server.request('GET', '/api/v1/slos/checkout-dd-refused')).text(),
        await (await server.request('GET', '/api/v1/slos')).text(),
        await (await server.request('GET', '/metrics')).text(),
      ].join('\n');
      const logged = logs.join('');
      expect(logged).toContain('pull failed');
      for (const text of [answers, logged]) {
        for (const secret of [API_KEY, APP_KEY, DATADOG_BODY_SECRET, 'Error parsing query'])
          expect(text).not.toContain(secret);
      }
    });
  });
});

describe('the Datadog client on odd answers', () => {
  const policy = parseEgressAllow(['127.0.0.1']);
  if (!policy.ok) throw new Error('bad policy');
  const egress = new Egress(policy.policy);
  const range = { fromMs: T, toMs: T + 10 * MIN };

  /** A loopback server answering every request with `handler`; its url. */
  const serve = async (handler: Parameters<typeof createServer>[1]) => {
    const server = createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  };
  const reasonOf = async (url: string, timeoutMs = 5000) => {
    const client = await connectDatadog({
      url,
      headers: {},
      timeoutMs,
      credentials: { apiKey: API_KEY, appKey: APP_KEY },
      egress,
    });
    try {
      await client.fetchMinutes('sum:hits{*}.as_count().rollup(sum, 60)', range);
      return { reason: 'none', message: '' };
    } catch (error) {
      const e = error as SourceQueryError;
      return { reason: e.reason, message: e.message };
    } finally {
      await client.close();
    }
  };

  it('classifies a body that is not JSON, a hung server and a closed port, quoting neither body nor key', async () => {
    const garbage = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(`{not json ${DATADOG_BODY_SECRET}`);
    });
    const hung = await serve(() => {});
    const closed = await serve(() => {});
    closed.server.close();
    try {
      expect(await reasonOf(garbage.url)).toEqual({
        reason: 'bad_response',
        message: `${garbage.url} answered a body that is not a Datadog query result`,
      });
      expect(await reasonOf(hung.url, 300)).toEqual({
        reason: 'timeout',
        message: `${hung.url} did not answer within 0.3 s`,
      });
      expect(await reasonOf(closed.url)).toEqual({
        reason: 'unreachable',
        message: `${closed.url} unreachable: connection refused`,
      });
    } finally {
      garbage.server.close();
      hung.server.closeAllConnections();
      hung.server.close();
    }
  });
});
