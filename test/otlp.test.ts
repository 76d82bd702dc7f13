/**
 * The OTLP/HTTP receiver fed by the real OpenTelemetry JS SDK (sdk-metrics with the OTLP HTTP JSON
 * and protobuf exporters, gzip on) on SQLite and PostgreSQL: exact good/total through the API,
 * retried exports counted once, pushes to OTLP SLIs refused, bad bodies answered 400.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  AggregationTemporalityPreference,
  OTLPMetricExporter as JsonExporter,
} from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtoExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from './support/databases.js';
import { type JsonBody, json, ManualClock, startTestServer, type TestServer } from './support/server.js';

const BOUNDARIES = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

const SPECS = `
apiVersion: openslo/v1
kind: Service
metadata: {name: checkout}
spec: {}
---
apiVersion: openslo/v1
kind: DataSource
metadata: {name: otel}
spec: {type: OpenTelemetry, connectionDetails: {}}
---
apiVersion: openslo/v1
kind: SLO
metadata: {name: checkout-availability}
spec:
  service: checkout
  indicator:
    metadata: {name: checkout-requests}
    spec:
      ratioMetric:
        counter: true
        good:
          metricSource:
            metricSourceRef: otel
            spec:
              metric: http.server.request.duration
              resource: {service.name: checkout}
              attributes: {http.response.status_code: {lt: 500}}
        total:
          metricSource:
            metricSourceRef: otel
            spec: {metric: http.server.request.duration, resource: {service.name: checkout}}
  timeWindow: [{duration: 1d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{target: 0.9}]
---
apiVersion: openslo/v1
kind: SLO
metadata: {name: checkout-latency}
spec:
  service: checkout
  indicator:
    metadata: {name: checkout-duration}
    spec:
      thresholdMetric:
        metricSource:
          metricSourceRef: otel
          spec: {metric: http.server.request.duration, resource: {service.name: checkout}}
  timeWindow: [{duration: 1d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{op: lte, value: 0.3, target: 0.9}]
---
apiVersion: openslo/v1
kind: SLO
metadata: {name: orders}
spec:
  service: checkout
  indicator:
    metadata: {name: orders-processed}
    spec:
      ratioMetric:
        counter: true
        bad:
          metricSource:
            metricSourceRef: otel
            spec: {metric: orders.processed, attributes: {outcome: failed}}
        total:
          metricSource: {metricSourceRef: otel, spec: {metric: orders.processed}}
  timeWindow: [{duration: 1d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{target: 0.9}]
`;

interface Truth {
  total: number;
  below500: number;
  upTo025: number;
  orders: number;
  failed: number;
}

/** Requests: duration and status; orders: outcome. */
interface Traffic {
  readonly requests: ReadonlyArray<{ seconds: number; status: number }>;
  readonly orders: ReadonlyArray<'ok' | 'failed'>;
}

const traffic = fc.record({
  requests: fc.array(
    fc.record({
      seconds: fc.constantFrom(0.004, 0.02, 0.1, 0.25, 0.26, 0.3, 0.9, 3),
      status: fc.constantFrom(200, 204, 404, 500, 503),
    }),
    { maxLength: 40 },
  ),
  orders: fc.array(fc.constantFrom<'ok' | 'failed'>('ok', 'ok', 'failed'), { maxLength: 20 }),
});

function record(meterProvider: MeterProvider, t: Traffic, truth: Truth): void {
  const meter = meterProvider.getMeter('shop');
  const duration = meter.createHistogram('http.server.request.duration', {
    unit: 's',
    advice: { explicitBucketBoundaries: BOUNDARIES },
  });
  const orders = meter.createCounter('orders.processed');
  for (const r of t.requests) {
    duration.record(r.seconds, { 'http.response.status_code': r.status, 'http.route': '/cart' });
    truth.total++;
    if (r.status < 500) truth.below500++;
    if (r.seconds <= 0.25) truth.upTo025++;
  }
  for (const o of t.orders) {
    orders.add(1, { outcome: o });
    truth.orders++;
    if (o === 'failed') truth.failed++;
  }
}

describe.each(DIALECTS)('OTLP receiver on %s', (dialect) => {
  let server: TestServer;
  let token: string;
  let dir: string;
  let clock: ManualClock;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'shinrai-otlp-'));
    writeFileSync(join(dir, 'checkout.yaml'), SPECS);
    // The SDK stamps points with the real time; the evaluator counts whole minutes, so tests move
    // the server's clock past the minute the points fell in before evaluating.
    clock = new ManualClock(Date.now());
    server = await startTestServer(dialect, { specs: dir, clock });
    token = await server.token('editor');
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const status = async (id: string): Promise<JsonBody> =>
    (await json(server.request('GET', `/api/v1/slos/${id}`, { token }))).status[0];
  const stored = async (sli: string) => {
    const rows = await server.shinrai.ctx.db.kysely
      .selectFrom('sli_minutes')
      .select(['good', 'total'])
      .where('sli', '=', sli)
      .execute();
    return rows.reduce((a, r) => ({ good: a.good + Number(r.good), total: a.total + Number(r.total) }), {
      good: 0,
      total: 0,
    });
  };

  it.each([
    ['JSON', 'cumulative'],
    ['protobuf', 'delta'],
  ] as const)(
    'counts exactly what the SDK exports (%s, %s temporality, gzip)',
    async (encoding, temporality) => {
      await server.shinrai.ctx.db.kysely.deleteFrom('sli_minutes').execute();
      await server.shinrai.ctx.db.kysely.deleteFrom('otlp_minutes').execute();
      const options = {
        url: `${server.shinrai.url}/v1/metrics`,
        headers: { authorization: `Bearer ${token}` },
        // CompressionAlgorithm.GZIP of @opentelemetry/otlp-exporter-base (not a direct dependency)
        compression: 'gzip' as never,
        temporalityPreference:
          temporality === 'delta'
            ? AggregationTemporalityPreference.DELTA
            : AggregationTemporalityPreference.CUMULATIVE,
      };
      const exporter = encoding === 'JSON' ? new JsonExporter(options) : new ProtoExporter(options);
      const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
      const provider = new MeterProvider({
        resource: resourceFromAttributes({ 'service.name': 'checkout' }),
        readers: [reader],
      });
      const truth: Truth = { total: 0, below500: 0, upTo025: 0, orders: 0, failed: 0 };
      const samples = fc.sample(traffic, { numRuns: 3, seed: encoding === 'JSON' ? 15 : 16 });
      for (const t of samples) {
        record(provider, t, truth);
        await provider.forceFlush();
      }
      await provider.forceFlush(); // an export with nothing new adds nothing
      await provider.shutdown();

      expect(await stored('checkout-requests')).toEqual({ good: truth.below500, total: truth.total });
      expect(await stored('checkout-duration:lte:0.3')).toEqual({ good: truth.upTo025, total: truth.total });
      expect(await stored('orders-processed')).toEqual({
        good: truth.orders - truth.failed,
        total: truth.orders,
      });

      clock.ms = Date.now() + 2 * 60_000;
      await server.shinrai.evaluator.tick();
      const availability = await status('checkout-availability');
      expect(availability.budget.consumed).toBe(truth.total - truth.below500);
      expect(availability.budget.total).toBeCloseTo(truth.total * 0.1, 6);
      if (truth.total) expect(availability.sli).toBeCloseTo(truth.below500 / truth.total, 12);
      const latency = await status('checkout-latency');
      expect(latency.budget.consumed).toBe(truth.total - truth.upTo025);
      const orders = await status('orders');
      expect(orders.budget.consumed).toBe(truth.failed);
    },
    60_000,
  );

  it('counts a retried export once and answers partial success for points no SLI reads', async () => {
    await server.shinrai.ctx.db.kysely.deleteFrom('sli_minutes').execute();
    await server.shinrai.ctx.db.kysely.deleteFrom('otlp_minutes').execute();
    const nowNs = BigInt(Date.now()) * 1_000_000n;
    const body = {
      resourceMetrics: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'checkout' } }] },
          scopeMetrics: [
            {
              metrics: [
                {
                  name: 'orders.processed',
                  sum: {
                    aggregationTemporality: 1,
                    isMonotonic: true,
                    dataPoints: [
                      {
                        attributes: [{ key: 'outcome', value: { stringValue: 'failed' } }],
                        startTimeUnixNano: String(nowNs - 1_000_000_000n),
                        timeUnixNano: String(nowNs),
                        asInt: '3',
                      },
                      {
                        attributes: [{ key: 'outcome', value: { stringValue: 'ok' } }],
                        startTimeUnixNano: String(nowNs - 1_000_000_000n),
                        timeUnixNano: String(nowNs),
                        asInt: '7',
                      },
                    ],
                  },
                },
                {
                  name: 'jvm.memory.used',
                  gauge: { dataPoints: [{ timeUnixNano: String(nowNs), asInt: '1' }] },
                },
              ],
            },
          ],
        },
      ],
    };
    const post = () =>
      fetch(`${server.shinrai.url}/v1/metrics`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'content-encoding': 'gzip',
        },
        body: gzipSync(JSON.stringify(body)),
      });
    const first = await post();
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({
      partialSuccess: {
        rejectedDataPoints: '1',
        errorMessage: expect.stringContaining('no SLI reads metric "jvm.memory.used"'),
      },
    });
    const again = await post();
    expect(again.status).toBe(200);
    expect(await stored('orders-processed')).toEqual({ good: 7, total: 10 });
    const metrics = await (await server.request('GET', '/metrics', { token })).text();
    expect(metrics).toMatch(/shinrai_otlp_data_points_total\{outcome="duplicate"\} [1-9]/);
    expect(metrics).toMatch(/shinrai_otlp_data_points_total\{outcome="rejected"\} [1-9]/);
  });

  it('refuses event pushes to an SLI fed by OpenTelemetry', async () => {
    const response = await server.request('POST', '/api/v1/sli/orders-processed/events', {
      token,
      body: [{ ts: Date.now(), good: 1, total: 1 }],
    });
    expect(response.status).toBe(409);
    expect((await json(response)).detail).toMatch(/fed by OpenTelemetry/);
  });

  it('answers bad bodies 400 (protobuf: a google.rpc.Status), a viewer 403 and no token 401, storing nothing', async () => {
    await server.shinrai.ctx.db.kysely.deleteFrom('otlp_series').execute();
    const viewer = await server.token('viewer');
    const post = (
      headers: Record<string, string>,
      body: Uint8Array | string,
      bearer: string | undefined = token,
    ) =>
      fetch(`${server.shinrai.url}/v1/metrics`, {
        method: 'POST',
        headers: { ...(bearer ? { authorization: `Bearer ${bearer}` } : {}), ...headers },
        body,
      });
    const proto = await post(
      { 'content-type': 'application/x-protobuf' },
      new Uint8Array([0x0a, 0xff, 0xff, 0xff]),
    );
    expect(proto.status).toBe(400);
    expect(proto.headers.get('content-type')).toMatch(/application\/x-protobuf/);
    const problem = await post({ 'content-type': 'application/json' }, '{"resourceMetrics": 5}');
    expect(problem.status).toBe(400);
    expect(problem.headers.get('content-type')).toMatch(/problem\+json/);
    expect((await post({ 'content-type': 'text/plain' }, '{}')).status).toBe(415);
    expect(
      (await post({ 'content-type': 'application/json', 'content-encoding': 'gzip' }, 'not gzip')).status,
    ).toBe(400);
    expect((await post({ 'content-type': 'application/json' }, '{}', viewer)).status).toBe(403);
    expect((await post({ 'content-type': 'application/json' }, '{}', '')).status).toBe(401);
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), fc.boolean(), async (bytes, asJson) => {
        const response = await post(
          { 'content-type': asJson ? 'application/json' : 'application/x-protobuf' },
          bytes,
        );
        expect([200, 400]).toContain(response.status);
      }),
      { numRuns: 60 },
    );
    expect(await server.shinrai.ctx.db.kysely.selectFrom('otlp_series').selectAll().execute()).toEqual([]);
    // Refused bodies (400, 415) are counted as invalid exports; 401 and 403 are not exports.
    const metrics = await (await server.request('GET', '/metrics', { token })).text();
    expect(metrics).toMatch(/shinrai_otlp_exports_total\{outcome="invalid"\} [1-9]/);
  }, 60_000);
});
