/**
 * SLIs read from Amazon CloudWatch through the official @aws-sdk/client-cloudwatch, pointed at a
 * local CloudWatch that speaks the SDK's protocol and checks its SigV4 header
 * (test/support/cloudwatch.ts), on SQLite and PostgreSQL: the first pull loads the period (pages
 * followed by NextToken; 1-minute data exists for the last 15 days only, so older minutes are no
 * data) and agrees with the exact counts; the next pull reads only the new minutes; Throttling is
 * retried; a CloudWatch that is down gives "no data" and the pull catches up; the keys appear in
 * no log, error, API answer or /metrics.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { minuteStamp, upsertBuckets } from '../src/slo/ingest/service.js';
import { CLOUDWATCH_SECRET, FakeCloudWatch } from './support/cloudwatch.js';
import { DIALECTS } from './support/databases.js';
import { type JsonBody, json, ManualClock, startTestServer, type TestServer } from './support/server.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const T = Date.UTC(2026, 9, 20, 12, 0);
const KEY_ID = 'AKIAIOSFODNN7SHINRAI';
const SECRET_KEY = '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';
const REGION = 'eu-west-1';

const total = (ms: number) => 50 + ((ms / MIN) % 11);
/** ELB emits HTTPCode_Target_5XX_Count only for minutes that had some: no data point otherwise. */
const errors = (ms: number) =>
  ms >= T - 2 * DAY && ms < T - 2 * DAY + HOUR ? 10 : (ms / MIN) % 89 === 0 ? 2 : undefined;
const RETAINED_FROM = T - 15 * DAY;

const metric = (name: string) =>
  `{ metricSource: { metricSourceRef: aws, type: CloudWatch, spec: { namespace: AWS/ApplicationELB, metricName: ${name}, stat: Sum, dimensions: [{ name: LoadBalancer, value: app/checkout/50dc6c495c0c9188 }] } } }`;

const WRONG_KEY_ID = 'AKIAWRONGKEYSHINRAI0';
const WRONG_SECRET = 'wrong/SECRET/KEY/never/shown/0123456789';

const SPECS = (url: string) => `apiVersion: openslo/v1
kind: DataSource
metadata: { name: aws-wrong-key }
spec:
  type: aws-cloudwatch
  connectionDetails: [{ url: '${url}' }, { region: ${REGION} }, { accessKeyId: ${WRONG_KEY_ID} }, { secretAccessKey: ${WRONG_SECRET} }]
---
apiVersion: openslo/v1
kind: SLO
metadata: { name: wrong-key-cw }
spec:
  service: shop
  budgetingMethod: Occurrences
  timeWindow: [{ duration: 1d, isRolling: true }]
  indicator:
    metadata: { name: wrong-key-elb }
    spec:
      thresholdMetric: { metricSource: { metricSourceRef: aws-wrong-key, spec: { namespace: AWS/ApplicationELB, metricName: TargetResponseTime, stat: p99 } } }
  objectives: [{ target: 0.99, op: lte, value: 0.5 }]
---
apiVersion: openslo/v1
kind: DataSource
metadata: { name: aws }
spec:
  type: CloudWatch
  connectionDetails:
    url: '${url}'
    region: ${REGION}
    accessKeyId: \${SHINRAI_TEST_AWS_ACCESS_KEY_ID}
    secretAccessKey: \${SHINRAI_TEST_AWS_SECRET_ACCESS_KEY}
---
apiVersion: openslo/v1
kind: SLO
metadata: { name: checkout-cw }
spec:
  service: shop
  budgetingMethod: Occurrences
  timeWindow: [{ duration: 30d, isRolling: true }]
  indicator:
    metadata: { name: checkout-elb }
    spec:
      ratioMetric:
        bad: ${metric('HTTPCode_Target_5XX_Count')}
        total: ${metric('RequestCount')}
  objectives: [{ target: 0.999 }]
---
apiVersion: openslo/v1
kind: SLO
metadata: { name: checkout-exact }
spec:
  service: shop
  budgetingMethod: Occurrences
  timeWindow: [{ duration: 30d, isRolling: true }]
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
metadata: { name: counter-cw }
spec:
  service: shop
  budgetingMethod: Occurrences
  timeWindow: [{ duration: 1d, isRolling: true }]
  indicator:
    metadata: { name: counter-elb }
    spec:
      ratioMetric:
        counter: true
        bad: ${metric('HTTPCode_Target_5XX_Count')}
        total: ${metric('RequestCount')}
  objectives: [{ target: 0.99 }]
`;

describe.each(DIALECTS)('SLIs from CloudWatch (GetMetricData fake, official SDK) on %s', (dialect) => {
  const clock = new ManualClock(T);
  const fake = new FakeCloudWatch({
    accessKeyId: KEY_ID,
    region: REGION,
    metrics: { RequestCount: total, HTTPCode_Target_5XX_Count: errors },
    now: () => clock.ms,
    pageSize: 5000,
  });
  const logs: string[] = [];
  let work: string;
  let server: TestServer;

  /** The exact counts of the retained minutes (CloudWatch has no 1-minute data before them). */
  const pushExact = async (fromMs: number, toMs: number) => {
    const buckets = [];
    for (let ms = Math.max(fromMs, RETAINED_FROM); ms < toMs; ms += MIN)
      buckets.push({
        storageKey: 'checkout-exact-counts',
        minuteMs: ms,
        good: total(ms) - (errors(ms) ?? 0),
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
      // wrong-key-cw fails on every cycle (unauthorized: not retried, its source stays up).
      if (summary && summary.failed <= 1 && summary.skipped === 0) break;
    }
    for (let i = 0; i < 5; i++) await server.shinrai.evaluator.tick();
  };
  const agreesWithExact = async () => {
    const exact = await status('checkout-exact');
    const pulled = await status('checkout-cw');
    expect(pulled.period).toEqual(exact.period);
    expect(pulled.sli).toBeCloseTo(exact.sli, 12);
    expect(pulled.budget.remaining).toBeCloseTo(exact.budget.remaining, 9);
    expect(pulled.budget.total).toBeCloseTo(exact.budget.total, 6);
    return pulled;
  };

  beforeAll(async () => {
    process.env.SHINRAI_TEST_AWS_ACCESS_KEY_ID = KEY_ID;
    process.env.SHINRAI_TEST_AWS_SECRET_ACCESS_KEY = SECRET_KEY;
    await fake.start();
    work = await mkdtemp(join(tmpdir(), 'shinrai-cw-'));
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
    await pushExact(T - 31 * DAY, T);
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await fake.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('loads the period page by page on first pull; minutes past the 15-day retention are no data', async () => {
    await catchUp();
    const pulled = await agreesWithExact();
    expect(pulled.data).toMatchObject({ state: 'ok', retrying: false, source: 'cloudwatch:aws' });
    expect(pulled.budget.remaining).toBeLessThan(0.9);
    const requests = fake.calls.filter((c) => c.metric === 'RequestCount');
    expect(Math.min(...requests.map((c) => c.startMs))).toBeLessThanOrEqual(T - 30 * DAY);
    expect(Math.max(...requests.map((c) => c.endMs))).toBe(T);
    expect(requests.some((c) => c.page > 0)).toBe(true); // NextToken followed
    expect(logs.join('\n')).toMatch(/not pulled: counter: true does not apply to CloudWatch/);
  }, 60_000);

  it('reads only the new minutes on the next pull', async () => {
    fake.calls.length = 0;
    clock.advance(10 * MIN);
    await catchUp();
    expect(fake.calls.length).toBeGreaterThan(0);
    for (const call of fake.calls) {
      expect(call.startMs).toBe(T - 5 * MIN);
      expect(call.endMs).toBe(T + 10 * MIN);
    }
    await pushExact(T, clock.ms);
    for (let i = 0; i < 3; i++) await server.shinrai.evaluator.tick();
    await agreesWithExact();
  }, 60_000);

  it('retries a Throttling answer', async () => {
    fake.throttled = 1;
    const from = clock.ms;
    clock.advance(5 * MIN);
    const summary = await server.shinrai.puller.cycle();
    expect(fake.throttled).toBe(0);
    expect(summary).toMatchObject({ pulled: 1, skipped: 0 });
    await pushExact(from, clock.ms);
    for (let i = 0; i < 3; i++) await server.shinrai.evaluator.tick();
    expect((await agreesWithExact()).data).toMatchObject({ state: 'ok' });
    const metrics = await (await server.request('GET', '/metrics')).text();
    expect(metrics).toMatch(
      /shinrai_source_queries_total\{type="cloudwatch",source="aws",outcome="rate_limited"\} 1\n/,
    );
  }, 60_000);

  it('says "no data since T" while CloudWatch is down, then catches up', async () => {
    const before = await status('checkout-cw');
    const since = clock.ms;
    fake.mode = 'down';
    clock.advance(30 * MIN);
    const summary = await server.shinrai.puller.cycle();
    expect(summary!.pulled).toBe(0);
    await server.shinrai.evaluator.tick();
    const down = await status('checkout-cw');
    expect(down.data).toMatchObject({
      state: 'no-data',
      retrying: true,
      since: new Date(since).toISOString(),
    });
    expect(down.data.lastError).toMatch(/HTTP 503/);
    expect(down.budget).toEqual(before.budget);
    const metrics = await (await server.request('GET', '/metrics')).text();
    expect(metrics).toMatch(/shinrai_source_up\{type="cloudwatch",source="aws"\} 0/);
    expect(metrics).toMatch(
      /shinrai_source_queries_total\{type="cloudwatch",source="aws",outcome="unavailable"\} [1-9]/,
    );

    fake.mode = 'up';
    clock.advance(2 * HOUR);
    await catchUp();
    await pushExact(since, clock.ms);
    for (let i = 0; i < 3; i++) await server.shinrai.evaluator.tick();
    expect((await agreesWithExact()).data).toMatchObject({ state: 'ok', retrying: false, failures: 0 });
    const after = await (await server.request('GET', '/metrics')).text();
    expect(after).toMatch(/shinrai_source_up\{type="cloudwatch",source="aws"\} 1/);
    expect(after).toMatch(
      /shinrai_source_queries_total\{type="cloudwatch",source="aws",outcome="ok"\} [1-9]/,
    );
  }, 60_000);

  it('signs with the access key and never shows the keys or a CloudWatch body', async () => {
    expect(new Set(fake.keyIdsSeen)).toEqual(new Set([KEY_ID, WRONG_KEY_ID]));
    const refused = await status('wrong-key-cw');
    expect(refused.data).toMatchObject({ state: 'no-data' });
    expect(refused.data.lastError).toMatch(
      /refused the credentials \(HTTP 403 Forbidden, InvalidClientTokenId\)/,
    );
    const seen = [
      logs.join('\n'),
      await (await server.request('GET', '/metrics')).text(),
      await (await server.request('GET', '/api/v1/slos')).text(),
      JSON.stringify(await status('checkout-cw')),
      JSON.stringify(refused),
    ].join('\n');
    expect(logs.length).toBeGreaterThan(0);
    for (const secret of [KEY_ID, SECRET_KEY, WRONG_KEY_ID, WRONG_SECRET, CLOUDWATCH_SECRET])
      expect(seen).not.toContain(secret);
  });
});
