/**
 * SLIs read from a real Prometheus: 30 days of synthetic request counters (two instances, one
 * counter reset, an incident) are backfilled into its TSDB with promtool. The same data, counted
 * exactly, is pushed to a third SLO. Shinrai's numbers from Prometheus must agree with its own
 * computation on the exact counts, and with what Prometheus computes from the Sloth rules Shinrai
 * generates. Then Prometheus goes down: statuses say "no data" and hold; it comes back: they catch up.
 *
 * Tolerances: the counter SLI (`increase` over closed one-minute ranges that hold the previous
 * minute's last sample) reproduces the exact counts, so it must agree to 1e-9. The Sloth query
 * (`rate` over the same ranges) is the same count divided by 60, so ratios agree to 1e-9 too.
 * Sloth's period rule averages the 5-minute error ratios instead of weighting them by traffic; with
 * traffic that varies ±10% it is within 0.5% of the budget (0.13% here) (stated in docs/prometheus.md).
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateRules } from '../src/rules/generate.js';
import { minuteStamp, upsertBuckets } from '../src/slo/ingest/service.js';
import { loadSpecText } from '../src/slo/spec/load.js';
import { DIALECTS } from './support/databases.js';
import {
  backfillOpenMetrics,
  generateRequestCounters,
  type PrometheusServer,
  prometheusAvailable,
  startPrometheus,
} from './support/prometheus.js';
import { type JsonBody, json, ManualClock, startTestServer, type TestServer } from './support/server.js';
import { prometheusSloYaml } from './support/specs.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
/** "Now" for Shinrai: the data runs 31 days before it and 3 hours after (for the catch-up). */
const T = Date.UTC(2026, 9, 20, 12, 0);
const DATA_START = T - 31 * DAY;
const DATA_END = T + 3 * HOUR;
const INCIDENT = { from: T - 3 * DAY, to: T - 3 * DAY + 2 * HOUR };

const specs = (promUrl: string) => `${prometheusSloYaml('checkout-prom', {
  source: 'main-prometheus',
  url: promUrl,
  sli: 'checkout-counters',
  good: 'http_requests_total{job="checkout",code="200"}',
  total: 'http_requests_total{job="checkout"}',
})}---
apiVersion: openslo/v1
kind: SLO
metadata: { name: checkout-pushed }
spec:
  service: shop
  budgetingMethod: Occurrences
  timeWindow: [{ duration: 30d, isRolling: true }]
  indicator:
    metadata: { name: checkout-exact }
    spec:
      ratioMetric:
        good: { metricSource: { type: shinrai, spec: {} } }
        total: { metricSource: { type: shinrai, spec: {} } }
  objectives: [{ target: 0.999 }]
`;

const SLOTH = `
version: prometheus/v1
service: shop
labels: { team: checkout }
slos:
  - name: checkout-sloth
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(http_requests_total{job="checkout",code="500"}[{{.window}}]))
        total_query: sum(rate(http_requests_total{job="checkout"}[{{.window}}]))
    alerting: { page_alert: { disable: true }, ticket_alert: { disable: true } }
`;

describe.skipIf(!prometheusAvailable())('SLIs from a real Prometheus', () => {
  let prometheus: PrometheusServer;
  let work: string;
  let truth: ReadonlyArray<{ minuteMs: number; good: number; total: number }>;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'shinrai-prom-'));
    const data = generateRequestCounters({
      jobs: [
        {
          job: 'checkout',
          instances: ['a', 'b'],
          rps: (ms) => 20 * (1 + 0.1 * Math.sin((2 * Math.PI * ms) / DAY)),
          errorRatio: (ms) => (ms >= INCIDENT.from && ms < INCIDENT.to ? 0.02 : 0.0004),
          resetsAt: [T - 10 * DAY + 17 * MIN],
        },
      ],
      startMs: DATA_START,
      endMs: DATA_END,
      scrapeSeconds: 15,
      seed: 42,
    });
    truth = data.minutes.get('checkout')!;
    await backfillOpenMetrics(data.openMetrics, join(work, 'tsdb'));
    prometheus = await startPrometheus({ dataDir: join(work, 'tsdb') });
    await mkdir(join(work, 'specs'));
    await writeFile(join(work, 'specs', 'openslo.yaml'), specs(prometheus.url));
    await writeFile(join(work, 'specs', 'sloth.yaml'), SLOTH);
  }, 180_000);

  afterAll(async () => {
    await prometheus?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  describe.each(DIALECTS)('on %s', (dialect) => {
    let server: TestServer;
    const clock = new ManualClock(T);

    beforeAll(async () => {
      server = await startTestServer(dialect, {
        specs: join(work, 'specs'),
        clock,
        anonymousRead: true,
        config: {
          'prometheus.url': prometheus.url,
          'prometheus.retries': 1,
          // Read up to the clock, so Shinrai's windows end where Prometheus' instant queries do.
          'prometheus.delaySeconds': 0,
          'prometheus.intervalSeconds': 60,
          // A hung Prometheus is detected fast.
          'prometheus.timeoutSeconds': 2,
        },
      });
      // The exact counts, as if pushed, for the reference SLO (minutes up to now only).
      const db = server.shinrai.ctx.db;
      await upsertBuckets(
        db.kysely,
        truth
          .filter((m) => m.minuteMs < T)
          .map((m) => ({ storageKey: 'checkout-exact', minuteMs: m.minuteMs, good: m.good, total: m.total })),
        minuteStamp(db, T),
      );
    }, 60_000);

    afterAll(async () => {
      await server?.close();
    });

    const status = async (id: string): Promise<JsonBody> => {
      const body = await json(server.request('GET', `/api/v1/slos/${id}`));
      return body.status[0];
    };

    /** Pulls until every pulled SLI is current, then evaluates until every status is in. */
    const catchUp = async () => {
      for (let i = 0; i < 5; i++) {
        const summary = await server.shinrai.puller.cycle();
        if (summary && summary.failed === 0 && summary.skipped === 0) break;
      }
      for (let i = 0; i < 10; i++) await server.shinrai.evaluator.tick();
    };

    it('loads the whole period on first pull and agrees with the exact counts', async () => {
      await catchUp();
      const exact = await status('checkout-pushed');
      expect(exact.sli).toBeGreaterThan(0.99);
      expect(exact.budget.remaining).toBeLessThan(0.9); // the incident used a real share of it
      for (const id of ['checkout-prom', 'shop-checkout-sloth']) {
        const pulled = await status(id);
        expect(pulled.data).toMatchObject({
          state: 'ok',
          retrying: false,
          source: expect.stringMatching(/^prometheus:/),
        });
        expect(pulled.period).toEqual(exact.period);
        expect(pulled.sli).toBeCloseTo(exact.sli, 9);
        expect(pulled.budget.remaining).toBeCloseTo(exact.budget.remaining, 7);
        for (const [window, rate] of Object.entries(exact.burnRates as Record<string, number>))
          expect(pulled.burnRates[window], `${id} burn rate ${window}`).toBeCloseTo(rate, 6);
      }
      // The counter SLI stores the exact event counts; the rate-based Sloth SLI the same per second.
      const counters = await status('checkout-prom');
      expect(counters.budget.total).toBeCloseTo(exact.budget.total, 3);
    }, 120_000);

    it('agrees with what Prometheus computes from the generated Sloth rules', async () => {
      const loaded = loadSpecText('sloth.yaml', SLOTH);
      const rules = generateRules(loaded.catalog, { disableAlerts: true });
      const recorded = rules.groups.flatMap((g) => g.rules).filter((r) => 'record' in r);
      const ruleExpr = (record: string, window?: string) =>
        recorded.find(
          (r) => 'record' in r && r.record === record && (!window || r.labels.sloth_window === window),
        )!.expr;
      const pulled = await status('shop-checkout-sloth');
      const errorBudget = 1 - 0.999;
      // Each window's error ratio, as Prometheus evaluates Sloth's recording rule expression at T.
      for (const window of ['5m', '30m', '1h', '2h', '6h', '1d', '3d']) {
        const [sample] = await prometheus.query(ruleExpr(`slo:sli_error:ratio_rate${window}`), T);
        expect(pulled.burnRates[window] * errorBudget, `error ratio over ${window}`).toBeCloseTo(
          sample!.value,
          4,
        );
      }
      // The period: Sloth averages the recorded 5-minute ratios over 30 days; a subquery at the
      // rule evaluation interval stands in for the recorded series.
      const periodRatio = `avg_over_time((${ruleExpr('slo:sli_error:ratio_rate5m')})[30d:1m])`;
      const [period] = await prometheus.query(periodRatio, T);
      const slothRemaining = 1 - period!.value / errorBudget;
      expect(Math.abs(pulled.budget.remaining - slothRemaining)).toBeLessThan(0.005);
    }, 60_000);

    it('says "no data since T" while Prometheus is down, holds the status, then catches up', async () => {
      const before = await status('checkout-prom');
      await prometheus.kill();
      clock.advance(30 * MIN);
      const summary = await server.shinrai.puller.cycle();
      expect(summary).toMatchObject({ pulled: 0 });
      expect(summary!.failed).toBeGreaterThan(0);
      await server.shinrai.evaluator.tick();
      const down = await status('checkout-prom');
      expect(down.data).toMatchObject({ state: 'no-data', retrying: true, since: new Date(T).toISOString() });
      expect(down.data.lastError).toMatch(/unreachable/);
      // Held, not recomputed from a gap: the same budget and burn rates as the last current status.
      expect(down.budget).toEqual(before.budget);
      expect(down.burnRates).toEqual(before.burnRates);
      expect(down.evaluatedAt).not.toBe(before.evaluatedAt);
      // Pushed data is unaffected.
      expect((await status('checkout-pushed')).data).toBeUndefined();
      const metrics = await (await server.request('GET', '/metrics')).text();
      expect(metrics).toMatch(
        /shinrai_source_queries_total\{type="prometheus",source="main-prometheus",outcome="unreachable"\} [1-9]/,
      );
      expect(metrics).toMatch(/shinrai_source_up\{type="prometheus",source="main-prometheus"\} 0/);

      await prometheus.start();
      // The failing source backs off for one interval; past it, the next pull catches up.
      clock.advance(2 * HOUR);
      await catchUp();
      const back = await status('checkout-prom');
      expect(back.data).toMatchObject({ state: 'ok', retrying: false, failures: 0 });
      expect(back.period.end).toBe(new Date(T + 2 * HOUR + 30 * MIN).toISOString());
      // Same numbers as the exact counts over the new window.
      await upsertBuckets(
        server.shinrai.ctx.db.kysely,
        truth
          .filter((m) => m.minuteMs >= T && m.minuteMs < clock.ms)
          .map((m) => ({ storageKey: 'checkout-exact', minuteMs: m.minuteMs, good: m.good, total: m.total })),
        minuteStamp(server.shinrai.ctx.db, clock.ms),
      );
      for (let i = 0; i < 3; i++) await server.shinrai.evaluator.tick();
      const exact = await status('checkout-pushed');
      expect(back.sli).toBeCloseTo(exact.sli, 9);
      expect(back.budget.remaining).toBeCloseTo(exact.budget.remaining, 7);
    }, 120_000);

    // On both dialects: the hung state ("no data", retrying, since) is stored and read back.
    it('treats a Prometheus that hangs like one that is down: timeouts, no data, then catch-up', async () => {
      const before = await status('checkout-prom');
      prometheus.pause();
      try {
        clock.advance(10 * MIN);
        const summary = await server.shinrai.puller.cycle();
        expect(summary!.failed).toBeGreaterThan(0);
        await server.shinrai.evaluator.tick();
        const hung = await status('checkout-prom');
        expect(hung.data).toMatchObject({ state: 'no-data', retrying: true, since: before.period.end });
        expect(hung.data.lastError).toMatch(/did not answer within 2 s/);
        expect(hung.budget).toEqual(before.budget);
        const metrics = await (await server.request('GET', '/metrics')).text();
        expect(metrics).toMatch(
          /shinrai_source_queries_total\{type="prometheus",source="main-prometheus",outcome="timeout"\} [1-9]/,
        );
      } finally {
        prometheus.resume();
      }
      clock.advance(HOUR);
      await catchUp();
      expect((await status('checkout-prom')).data).toMatchObject({ state: 'ok', failures: 0 });
    }, 60_000);

    it('refuses pushed data for an SLI it reads from Prometheus', async () => {
      const token = await server.token('editor');
      const response = await server.request('POST', '/api/v1/sli/checkout-counters/events', {
        token,
        body: [{ ts: new Date(clock.ms - 5 * MIN).toISOString(), good: 1, total: 1 }],
      });
      expect(response.status).toBe(409);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(((await response.json()) as JsonBody).detail).toContain('read from Prometheus');
    });
  });
});

describe.skipIf(!prometheusAvailable())('a Prometheus behind TLS', () => {
  const NOW = Date.UTC(2026, 9, 2, 0, 0);
  let work: string;
  let prometheus: PrometheusServer;
  let server: TestServer;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'shinrai-prom-tls-'));
    const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: work, stdio: 'pipe' });
    openssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '2',
      '-subj',
      '/CN=shinrai-test-ca',
    );
    openssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'server.key',
      '-out',
      'server.csr',
      '-subj',
      '/CN=127.0.0.1',
    );
    await writeFile(join(work, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
    openssl(
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'server.crt',
      '-days',
      '2',
      '-extfile',
      'san.ext',
    );
    const data = generateRequestCounters({
      jobs: [{ job: 'checkout', instances: ['a'], rps: () => 5, errorRatio: () => 0.001 }],
      startMs: NOW - 2 * DAY,
      endMs: NOW,
      scrapeSeconds: 15,
      seed: 7,
    });
    await backfillOpenMetrics(data.openMetrics, join(work, 'tsdb'));
    prometheus = await startPrometheus({
      dataDir: join(work, 'tsdb'),
      tls: {
        certFile: join(work, 'server.crt'),
        keyFile: join(work, 'server.key'),
        caPem: await readFile(join(work, 'ca.pem'), 'utf8'),
      },
    });
    const slo = (name: string, connection: string) =>
      prometheusSloYaml(name, {
        source: `${name}-prometheus`,
        url: prometheus.url,
        connection,
        sli: `${name}-requests`,
        good: 'http_requests_total{code="200"}',
        total: 'http_requests_total',
        window: '1d',
        target: 0.99,
      });
    await mkdir(join(work, 'specs'));
    await writeFile(
      join(work, 'specs', 'slos.yaml'),
      [slo('trusted', `tlsCaFile: '${join(work, 'ca.pem')}'`), slo('untrusted', '')].join('---\n'),
    );
    server = await startTestServer('sqlite', {
      specs: join(work, 'specs'),
      clock: new ManualClock(NOW),
      anonymousRead: true,
      config: { 'prometheus.retries': 0, 'prometheus.delaySeconds': 0 },
    });
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    await prometheus?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('reads over HTTPS with the DataSource CA, and refuses a certificate it cannot verify', async () => {
    expect(prometheus.url).toMatch(/^https:/);
    await server.shinrai.puller.cycle();
    await server.shinrai.evaluator.tick();
    const statusOf = async (id: string): Promise<JsonBody> =>
      (await json(server.request('GET', `/api/v1/slos/${id}`))).status[0];
    const trusted = await statusOf('trusted');
    expect(trusted.data).toMatchObject({ state: 'ok', retrying: false });
    expect(trusted.sli).toBeGreaterThan(0.99);
    const untrusted = await statusOf('untrusted');
    expect(untrusted.data).toMatchObject({ state: 'no-data', retrying: true });
    expect(untrusted.data.lastError).toMatch(/certificate/i);
  }, 60_000);
});
