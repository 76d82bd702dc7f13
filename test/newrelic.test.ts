/**
 * SLIs read from New Relic (NRQL through NerdGraph) against a local NerdGraph that answers the
 * documented shapes (test/support/newrelic.ts), on SQLite and PostgreSQL: the first pull loads the
 * whole period in 366-bucket chunks and agrees with the exact counts (pushed to a reference SLO);
 * the next pull reads only the new minutes; a NerdGraph that is down gives "no data" and the pull
 * catches up when it is back; a 429 is waited out; a partial answer is not stored; the User key is
 * sent but appears in no log, error, API answer or /metrics.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { minuteStamp, upsertBuckets } from '../src/slo/ingest/service.js';
import { DIALECTS } from './support/databases.js';
import { FakeNerdGraph, NERDGRAPH_SECRET } from './support/newrelic.js';
import { type JsonBody, json, ManualClock, startTestServer, type TestServer } from './support/server.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const T = Date.UTC(2026, 9, 20, 12, 0);
const API_KEY = 'NRAK-TESTKEY0123456789ABCDEFGHIJ';
const ACCOUNT = 3141592;
const TOTAL_NRQL = "SELECT count(*) FROM Transaction WHERE appName = 'checkout'";
const GOOD_NRQL = "SELECT count(*) FROM Transaction WHERE appName = 'checkout' AND httpResponseCode < 500";

const total = (ms: number) => 100 + ((ms / MIN) % 13);
const bad = (ms: number) => (ms >= T - 6 * HOUR && ms < T - 5.5 * HOUR ? 20 : (ms / MIN) % 97 === 0 ? 1 : 0);

const WRONG_KEY = 'NRAK-WRONGKEY9876543210ZYXWVUTSRQ';

const SPECS = (url: string) => `apiVersion: openslo/v1
kind: DataSource
metadata: { name: nr-wrong-key }
spec:
  type: new-relic
  connectionDetails: { url: '${url}', apiKey: ${WRONG_KEY}, accountId: '${ACCOUNT}' }
---
apiVersion: openslo/v1
kind: SLO
metadata: { name: wrong-key-nr }
spec:
  service: shop
  budgetingMethod: Occurrences
  timeWindow: [{ duration: 1d, isRolling: true }]
  indicator:
    metadata: { name: wrong-key-nrql }
    spec:
      ratioMetric:
        good: { metricSource: { metricSourceRef: nr-wrong-key, spec: { nrql: "${GOOD_NRQL}" } } }
        total: { metricSource: { metricSourceRef: nr-wrong-key, spec: { nrql: "${TOTAL_NRQL}" } } }
  objectives: [{ target: 0.99 }]
---
apiVersion: openslo/v1
kind: DataSource
metadata: { name: nr }
spec:
  type: NewRelic
  connectionDetails:
    url: '${url}'
    apiKey: \${SHINRAI_TEST_NEW_RELIC_API_KEY}
    accountId: ${ACCOUNT}
---
apiVersion: openslo/v1
kind: SLO
metadata: { name: checkout-nr }
spec:
  service: shop
  budgetingMethod: Occurrences
  timeWindow: [{ duration: 2d, isRolling: true }]
  indicator:
    metadata: { name: checkout-nrql }
    spec:
      ratioMetric:
        good: { metricSource: { metricSourceRef: nr, type: NewRelic, spec: { nrql: "${GOOD_NRQL}" } } }
        total: { metricSource: { metricSourceRef: nr, type: NewRelic, spec: { nrql: "${TOTAL_NRQL}" } } }
  objectives: [{ target: 0.999 }]
---
apiVersion: openslo/v1
kind: SLO
metadata: { name: checkout-exact }
spec:
  service: shop
  budgetingMethod: Occurrences
  timeWindow: [{ duration: 2d, isRolling: true }]
  indicator:
    metadata: { name: checkout-exact-counts }
    spec:
      ratioMetric:
        good: { metricSource: { type: shinrai, spec: {} } }
        total: { metricSource: { type: shinrai, spec: {} } }
  objectives: [{ target: 0.999 }]
---
apiVersion: openslo/v1
kind: SLO
metadata: { name: refused-nr }
spec:
  service: shop
  budgetingMethod: Occurrences
  timeWindow: [{ duration: 1d, isRolling: true }]
  indicator:
    metadata: { name: refused-nrql }
    spec:
      ratioMetric:
        good: { metricSource: { metricSourceRef: nr, spec: { nrql: "SELECT count(*) FROM Nope" } } }
        total: { metricSource: { metricSourceRef: nr, spec: { nrql: "${TOTAL_NRQL}" } } }
  objectives: [{ target: 0.99 }]
---
apiVersion: openslo/v1
kind: SLO
metadata: { name: own-since-nr }
spec:
  service: shop
  budgetingMethod: Occurrences
  timeWindow: [{ duration: 1d, isRolling: true }]
  indicator:
    metadata: { name: own-since-nrql }
    spec:
      ratioMetric:
        good: { metricSource: { metricSourceRef: nr, spec: { nrql: "${GOOD_NRQL} SINCE 1 day ago" } } }
        total: { metricSource: { metricSourceRef: nr, spec: { nrql: "${TOTAL_NRQL}" } } }
  objectives: [{ target: 0.99 }]
`;

describe.each(DIALECTS)('SLIs from New Relic (NerdGraph fake) on %s', (dialect) => {
  const fake = new FakeNerdGraph({
    apiKey: API_KEY,
    accountId: ACCOUNT,
    queries: {
      [TOTAL_NRQL]: total,
      [GOOD_NRQL]: (ms) => total(ms) - bad(ms),
    },
  });
  const clock = new ManualClock(T);
  const logs: string[] = [];
  let work: string;
  let server: TestServer;

  const pushExact = async (fromMs: number, toMs: number) => {
    const buckets = [];
    for (let ms = fromMs; ms < toMs; ms += MIN)
      buckets.push({
        storageKey: 'checkout-exact-counts',
        minuteMs: ms,
        good: total(ms) - bad(ms),
        total: total(ms),
      });
    const db = server.shinrai.ctx.db;
    await upsertBuckets(db.kysely, buckets, minuteStamp(db, clock.ms));
  };
  const status = async (id: string): Promise<JsonBody> =>
    (await json(server.request('GET', `/api/v1/slos/${id}`))).status[0];
  const catchUp = async () => {
    for (let i = 0; i < 5; i++) {
      const summary = await server.shinrai.puller.cycle();
      // refused-nr and wrong-key-nr fail on every cycle (not retried: their source stays up).
      if (summary && summary.skipped === 0 && summary.failed <= 2) break;
    }
    for (let i = 0; i < 5; i++) await server.shinrai.evaluator.tick();
  };
  const agreesWithExact = async () => {
    const exact = await status('checkout-exact');
    const pulled = await status('checkout-nr');
    expect(pulled.period).toEqual(exact.period);
    expect(pulled.sli).toBeCloseTo(exact.sli, 12);
    expect(pulled.budget.remaining).toBeCloseTo(exact.budget.remaining, 9);
    expect(pulled.budget.total).toBeCloseTo(exact.budget.total, 6);
    return pulled;
  };

  beforeAll(async () => {
    process.env.SHINRAI_TEST_NEW_RELIC_API_KEY = API_KEY;
    await fake.start();
    work = await mkdtemp(join(tmpdir(), 'shinrai-nr-'));
    await mkdir(join(work, 'specs'));
    await writeFile(join(work, 'specs', 'slos.yaml'), SPECS(fake.url));
    server = await startTestServer(dialect, {
      specs: join(work, 'specs'),
      clock,
      anonymousRead: true,
      log: pino({ level: 'debug' }, { write: (line: string) => void logs.push(line) }),
      config: {
        'prometheus.delaySeconds': 0,
        'prometheus.retries': 1,
        'prometheus.timeoutSeconds': 5,
        'egress.allow': '127.0.0.1',
      },
    });
    await pushExact(T - 3 * DAY, T);
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await fake.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('loads the whole period in 366-minute chunks on first pull and agrees with the exact counts', async () => {
    await catchUp();
    const pulled = await agreesWithExact();
    expect(pulled.data).toMatchObject({ state: 'ok', retrying: false, source: 'newrelic:nr' });
    expect(pulled.budget.remaining).toBeLessThan(0.9);
    const ranges = fake.answered.filter((r) => r.nrql === GOOD_NRQL).sort((a, b) => a.sinceMs - b.sinceMs);
    expect(ranges.every((r) => r.untilMs - r.sinceMs <= 366 * MIN)).toBe(true);
    // No gap from the start of the period to now.
    for (let i = 1; i < ranges.length; i++)
      expect(ranges[i]!.sinceMs).toBeLessThanOrEqual(ranges[i - 1]!.untilMs);
    expect(ranges[0]!.sinceMs).toBeLessThanOrEqual(T - 2 * DAY);
    expect(ranges.at(-1)!.untilMs).toBe(T);
    const totals = fake.answered.filter((r) => r.nrql === TOTAL_NRQL);
    expect(Math.min(...totals.map((r) => r.sinceMs))).toBeLessThanOrEqual(T - 2 * DAY);
    expect(Math.max(...totals.map((r) => r.untilMs))).toBe(T);
    // The plan refused the spec that writes its own SINCE, and said why.
    expect(logs.join('\n')).toMatch(/not pulled: spec\.nrql must not contain SINCE/);
  }, 60_000);

  it('reads only the new minutes on the next pull', async () => {
    fake.answered.length = 0;
    clock.advance(10 * MIN);
    await catchUp();
    const checkout = fake.answered.filter((r) => r.nrql === GOOD_NRQL || r.nrql === TOTAL_NRQL);
    expect(checkout.length).toBeGreaterThan(0);
    // From the cursor minus the 5-minute overlap to the new head: nothing older.
    for (const r of checkout) {
      expect(r.sinceMs).toBe(T - 5 * MIN);
      expect(r.untilMs).toBe(T + 10 * MIN);
    }
    await pushExact(T, clock.ms);
    for (let i = 0; i < 3; i++) await server.shinrai.evaluator.tick();
    await agreesWithExact();
  }, 60_000);

  it('says "no data since T" while NerdGraph is down, then catches up', async () => {
    const before = await status('checkout-nr');
    fake.mode = 'down';
    clock.advance(30 * MIN);
    const summary = await server.shinrai.puller.cycle();
    expect(summary!.pulled).toBe(0);
    await server.shinrai.evaluator.tick();
    const down = await status('checkout-nr');
    expect(down.data).toMatchObject({
      state: 'no-data',
      retrying: true,
      since: new Date(T + 10 * MIN).toISOString(),
    });
    expect(down.data.lastError).toMatch(/HTTP 503/);
    expect(down.budget).toEqual(before.budget);
    const metrics = await (await server.request('GET', '/metrics')).text();
    expect(metrics).toMatch(/shinrai_source_up\{type="newrelic",source="nr"\} 0/);
    expect(metrics).toMatch(
      /shinrai_source_queries_total\{type="newrelic",source="nr",outcome="unavailable"\} [1-9]/,
    );

    fake.mode = 'up';
    clock.advance(2 * HOUR);
    await catchUp();
    await pushExact(T + 10 * MIN, clock.ms);
    for (let i = 0; i < 3; i++) await server.shinrai.evaluator.tick();
    const back = await agreesWithExact();
    expect(back.data).toMatchObject({ state: 'ok', retrying: false, failures: 0 });
    const after = await (await server.request('GET', '/metrics')).text();
    expect(after).toMatch(/shinrai_source_up\{type="newrelic",source="nr"\} 1/);
    expect(after).toMatch(/shinrai_source_queries_total\{type="newrelic",source="nr",outcome="ok"\} [1-9]/);
  }, 60_000);

  it('waits out a 429 (Retry-After) and stores no partial answer', async () => {
    for (const refusal of ['rate limit', 'partial answer'] as const) {
      if (refusal === 'rate limit') fake.rateLimited = 1;
      else fake.partial = 1;
      const from = clock.ms;
      clock.advance(5 * MIN);
      const summary = await server.shinrai.puller.cycle();
      // Refused once, retried (`prometheus.retries: 1`) and answered: the SLI is current.
      expect(fake.rateLimited + fake.partial, refusal).toBe(0);
      expect(summary!.skipped, refusal).toBe(0);
      await pushExact(from, clock.ms);
      for (let i = 0; i < 3; i++) await server.shinrai.evaluator.tick();
      const pulled = await agreesWithExact();
      expect(pulled.data, refusal).toMatchObject({ state: 'ok', retrying: false });
    }
    const metrics = await (await server.request('GET', '/metrics')).text();
    expect(metrics).toMatch(
      /shinrai_source_queries_total\{type="newrelic",source="nr",outcome="rate_limited"\} 1\n/,
    );
  }, 60_000);

  it('reports a refused NRQL on its SLO without quoting NerdGraph', async () => {
    const refused = await status('refused-nr');
    expect(refused.data).toMatchObject({ state: 'no-data' });
    expect(refused.data.lastError).toMatch(/refused the query \(INVALID_INPUT\)/);
    expect(JSON.stringify(refused)).not.toContain(NERDGRAPH_SECRET);
  });

  it('sends the User key and never shows it or a NerdGraph body in logs, errors, the API or /metrics', async () => {
    expect(new Set(fake.keysSeen)).toEqual(new Set([API_KEY, WRONG_KEY]));
    const refused = await status('wrong-key-nr');
    expect(refused.data).toMatchObject({ state: 'no-data' });
    expect(refused.data.lastError).toMatch(/refused the credentials or the account \(UNAUTHORIZED\)/);
    const seen = [
      logs.join('\n'),
      await (await server.request('GET', '/metrics')).text(),
      await (await server.request('GET', '/api/v1/slos')).text(),
      JSON.stringify(await status('checkout-nr')),
      JSON.stringify(await status('refused-nr')),
      JSON.stringify(refused),
    ].join('\n');
    expect(logs.length).toBeGreaterThan(0);
    expect(seen).not.toContain(API_KEY);
    expect(seen).not.toContain(WRONG_KEY);
    expect(seen).not.toContain(NERDGRAPH_SECRET);
  });
});
