/**
 * `shinrai validate --connect` against a real Prometheus holding the last hours of traffic: per
 * pulled SLI "ok, N minutes", "no data", the source's error, or why it can never be pulled, each
 * at the spec's file:line, with the exit status a deploy pipeline can use.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  backfillOpenMetrics,
  freePort,
  generateRequestCounters,
  type PrometheusServer,
  prometheusAvailable,
  startPrometheus,
} from './support/prometheus.js';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../bin/shinrai.js', import.meta.url));
const MIN = 60_000;

const spec = (promUrl: string, deadUrl: string) => `apiVersion: openslo/v1
kind: DataSource
metadata: { name: prom }
spec:
  type: Prometheus
  connectionDetails: [{ url: ${promUrl} }]
---
apiVersion: openslo/v1
kind: DataSource
metadata: { name: gone }
spec:
  type: Prometheus
  connectionDetails: [{ url: ${deadUrl} }]
---
apiVersion: openslo/v1
kind: SLI
metadata: { name: checkout-requests }
spec:
  ratioMetric:
    counter: true
    good: { metricSource: { metricSourceRef: prom, spec: { query: 'http_requests_total{job="checkout",code="200"}' } } }
    total: { metricSource: { metricSourceRef: prom, spec: { query: 'http_requests_total{job="checkout"}' } } }
---
apiVersion: openslo/v1
kind: SLI
metadata: { name: search-requests }
spec:
  ratioMetric:
    counter: true
    good: { metricSource: { metricSourceRef: prom, spec: { query: 'http_requests_total{job="search",code="200"}' } } }
    total: { metricSource: { metricSourceRef: prom, spec: { query: 'http_requests_total{job="search"}' } } }
---
apiVersion: openslo/v1
kind: SLI
metadata: { name: broken-promql }
spec:
  ratioMetric:
    good: { metricSource: { metricSourceRef: prom, spec: { query: 'sum(rate(http_requests_total{code="200"}[1m])' } } }
    total: { metricSource: { metricSourceRef: prom, spec: { query: 'sum(rate(http_requests_total[1m]))' } } }
---
apiVersion: openslo/v1
kind: SLI
metadata: { name: counter-not-selector }
spec:
  ratioMetric:
    counter: true
    good: { metricSource: { metricSourceRef: prom, spec: { query: 'sum(http_requests_total{code="200"})' } } }
    total: { metricSource: { metricSourceRef: prom, spec: { query: 'sum(http_requests_total)' } } }
---
apiVersion: openslo/v1
kind: SLI
metadata: { name: unreachable }
spec:
  ratioMetric:
    counter: true
    good: { metricSource: { metricSourceRef: gone, spec: { query: 'http_requests_total{code="200"}' } } }
    total: { metricSource: { metricSourceRef: gone, spec: { query: 'http_requests_total' } } }
${['checkout-requests', 'search-requests', 'broken-promql', 'counter-not-selector', 'unreachable']
  .map(
    (sli) => `---
apiVersion: openslo/v1
kind: SLO
metadata: { name: ${sli}-slo }
spec:
  service: shop
  budgetingMethod: Occurrences
  timeWindow: [{ duration: 1d, isRolling: true }]
  indicatorRef: ${sli}
  objectives: [{ target: 0.99 }]
`,
  )
  .join('')}`;

async function shinrai(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], {
      timeout: 60_000,
      env: { ...process.env, SHINRAI_PROMETHEUS_URL: '' },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe.skipIf(!prometheusAvailable())('shinrai validate --connect', () => {
  let prometheus: PrometheusServer;
  let work: string;
  let specFile: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'shinrai-connect-'));
    // Traffic of the last three hours, up to a minute ago; "search" has none.
    const endMs = Math.floor(Date.now() / MIN) * MIN - MIN;
    const data = generateRequestCounters({
      jobs: [{ job: 'checkout', instances: ['a'], rps: () => 5, errorRatio: () => 0.01 }],
      startMs: endMs - 3 * 60 * MIN,
      endMs,
      scrapeSeconds: 15,
      seed: 7,
    });
    await backfillOpenMetrics(data.openMetrics, join(work, 'tsdb'));
    prometheus = await startPrometheus({ dataDir: join(work, 'tsdb') });
    await mkdir(join(work, 'specs'));
    specFile = join(work, 'specs', 'shop.yaml');
    await writeFile(specFile, spec(prometheus.url, `http://127.0.0.1:${await freePort()}`));
    await writeFile(
      join(work, 'shinrai.yaml'),
      'prometheus:\n  delaySeconds: 0\n  retries: 0\n  timeoutSeconds: 5\n',
    );
  }, 180_000);

  afterAll(async () => {
    await prometheus?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('says per SLI: minutes, no data, the query error or the plan problem, at file:line', async () => {
    const { code, stdout, stderr } = await shinrai(
      'validate',
      join(work, 'specs'),
      '--connect',
      '--config',
      join(work, 'shinrai.yaml'),
    );
    expect(code, stdout + stderr).toBe(1);
    const line = (sli: string) =>
      stdout.split('\n').find((l) => l.includes(`SLI ${sli} `) || l.includes(`SLI ${sli}:`)) ?? '';
    // The good SLI is not a problem: it shows on the progress stream with its minutes.
    expect(stderr).toMatch(/ok {2}checkout-requests \(prometheus:prom\): ok, (5\d|60) minutes/);
    expect(line('checkout-requests')).toBe('');
    expect(line('search-requests')).toMatch(
      /shop\.yaml:\d+:\d+ {2}warning sources\/no-data {2}SLI search-requests \(prometheus:prom\): no data in the last 60 minutes/,
    );
    expect(line('broken-promql')).toMatch(
      /shop\.yaml:\d+:\d+ {2}sources\/connect {2}SLI broken-promql \(prometheus:prom\): .*refused the query \(HTTP 400/,
    );
    expect(line('counter-not-selector')).toMatch(
      /sources\/connect {2}SLI counter-not-selector: counter: true needs a plain series selector/,
    );
    expect(line('unreachable')).toMatch(
      /sources\/connect {2}SLI unreachable \(prometheus:gone\): .*unreachable/,
    );
    expect(stdout).toContain('1 of 5 pulled SLIs answered with data');
    // The location is the metric source's line in the file.
    const at = /shop\.yaml:(\d+):/.exec(line('broken-promql'))!;
    expect(Number(at[1])).toBeGreaterThan(0);
  });

  it('without --connect, warns about what can never be pulled and queries nothing', async () => {
    const { code, stdout } = await shinrai('validate', join(work, 'specs'));
    expect(code).toBe(0);
    expect(stdout).toMatch(
      /warning sources\/plan {2}SLI counter-not-selector: counter: true needs a plain series selector/,
    );
    expect(stdout).not.toContain('sources/connect');
  });

  it('reports as JSON with every check', async () => {
    const { stdout } = await shinrai(
      'validate',
      join(work, 'specs'),
      '--connect',
      '--json',
      '--config',
      join(work, 'shinrai.yaml'),
    );
    const report = JSON.parse(stdout) as {
      ok: boolean;
      connect: Array<{ sli: string; outcome: string; minutes: number }>;
    };
    expect(report.ok).toBe(false);
    const bySli = Object.fromEntries(report.connect.map((c) => [c.sli, c]));
    expect(bySli['checkout-requests']).toMatchObject({ outcome: 'ok' });
    expect(bySli['checkout-requests']!.minutes).toBeGreaterThanOrEqual(50);
    expect(bySli['search-requests']).toMatchObject({ outcome: 'no-data', minutes: 0 });
    expect(bySli['broken-promql']).toMatchObject({ outcome: 'failed' });
  });
});
