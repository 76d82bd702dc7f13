import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sharedFixture } from '../../test/support/fixtures.js';
import { DEMO_SPECS } from './commands/demo.js';
import { runCli } from './testing.js';

async function tempFile(name: string, text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'shinrai-cli-'));
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

const SLO = `apiVersion: openslo/v1
kind: SLO
metadata:
  name: api-availability
  annotations:
    shinrai.dev/owner: team-api
    shinrai.dev/journey: Call the API
    shinrai.dev/runbook: https://runbooks.example.com/api
spec:
  service: api
  indicatorRef: api-requests
  timeWindow:
    - duration: 30d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - target: 0.999
---
apiVersion: openslo/v1
kind: SLI
metadata:
  name: api-requests
spec:
  ratioMetric:
    good: {metricSource: {type: shinrai, spec: {}}}
    total: {metricSource: {type: shinrai, spec: {}}}
`;

describe('shinrai validate', () => {
  it('exits 0 for the coherent OpenSLO examples and prints a summary', async () => {
    const { code, stdout } = await runCli(['validate', sharedFixture('openslo/v1')]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/✓ 7 files, 1 SLO, 3 services: 0 errors, \d+ warnings/);
  });

  it('exits 0 for every Sloth example', async () => {
    const { code, stdout } = await runCli(['validate', sharedFixture('sloth/in')]);
    expect(stdout).toMatch(/: 0 errors/);
    expect(code).toBe(0);
  });

  it('exits 1 and prints file:line:column  rule  message  (hint) for each problem', async () => {
    const { code, stdout } = await runCli(['validate', sharedFixture('openslo/v1-upstream')]);
    expect(code).toBe(1);
    expect(stdout).toMatch(
      /slos\.yaml:40:9 {2}openslo\/op-on-ratio {2}`op` is only for threshold SLIs, .*\(remove `op`\/`value`: .*\)/,
    );
    expect(
      stdout.split('\n').filter((l) => /\.yaml:\d+:\d+ {2}\S+\/\S+ {2}/.test(l)).length,
    ).toBeGreaterThanOrEqual(8);
  });

  it('rejects the spec examples that put op on ratio objectives', async () => {
    const { code, stdout } = await runCli([
      'validate',
      sharedFixture('openslo/spec-examples/budgeting-method/ratio-timeslices.yaml'),
    ]);
    expect(code).toBe(1);
    expect(stdout).toContain('openslo/op-on-ratio');
  });

  it('passes warnings unless --strict', async () => {
    const file = await tempFile('slo.yaml', SLO.replace(/ {4}shinrai\.dev\/owner: team-api\n/, ''));
    const relaxed = await runCli(['validate', file]);
    expect(relaxed.code).toBe(0);
    expect(relaxed.stdout).toContain('warning shinrai/no-owner');
    const strict = await runCli(['validate', file, '--strict']);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toContain('(warnings fail with --strict)');
  });

  it('prints a JSON report with --json', async () => {
    const { code, stdout } = await runCli(['validate', sharedFixture('openslo/v1-upstream'), '--json']);
    expect(code).toBe(1);
    const report = JSON.parse(stdout);
    expect(report.ok).toBe(false);
    expect(report.errors).toBeGreaterThanOrEqual(8);
    expect(report.diagnostics[0]).toMatchObject({
      file: expect.any(String),
      line: expect.any(Number),
      column: expect.any(Number),
      rule: expect.any(String),
    });
  });

  it('reports a missing path as a located error', async () => {
    const { code, stdout } = await runCli(['validate', '/no/such/specs']);
    expect(code).toBe(1);
    expect(stdout).toContain('/no/such/specs:1:1  spec/not-found');
  });

  it('accepts a targetRef naming a notification target of the server config given with --config', async () => {
    const spec = await tempFile(
      'slo.yaml',
      `${SLO.replace(
        '    - target: 0.999\n',
        `    - target: 0.999
  alertPolicies:
    - kind: AlertPolicy
      metadata: { name: fast }
      spec:
        conditions:
          - kind: AlertCondition
            metadata: { name: hour }
            spec: { severity: page, condition: { kind: burnrate, op: gt, threshold: 14.4, lookbackWindow: 1h, alertAfter: 0m } }
        notificationTargets: [{ targetRef: oncall }]
`,
      )}`,
    );
    const without = await runCli(['validate', spec]);
    expect(without.code).toBe(1);
    expect(without.stdout).toContain('targetRef "oncall" names no AlertNotificationTarget');
    const config = await tempFile(
      'shinrai.yaml',
      'notificationTargets:\n  oncall: { target: webhook, url: https://hooks.example.com/x }\n',
    );
    const withConfig = await runCli(['validate', spec, '--config', config]);
    expect(withConfig.stdout).toContain(': 0 errors');
    expect(withConfig.code).toBe(0);
    const bad = await tempFile('bad.yaml', 'notificationTargets:\n  oncall: { target: email, url: x }\n');
    const refused = await runCli(['validate', spec, '--config', bad]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('notificationTargets.oncall.target');
  });

  it('exits 2 on usage errors', async () => {
    const { code, stderr } = await runCli(['validate']);
    expect(code).toBe(2);
    expect(stderr).toContain("missing required argument 'path'");
  });
});

describe('shinrai budget', () => {
  const at = '2026-11-23T00:00:00Z';

  async function dataFile(lines: object[]): Promise<string> {
    return tempFile('data.ndjson', `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
  }

  it('computes budget, burn rates and exhaustion from NDJSON, as JSON', async () => {
    const specs = await tempFile('slo.yaml', SLO);
    // One hour of 1000 requests/minute with 2 bad per minute: error ratio 0.002, burn rate 2.
    const lines = Array.from({ length: 60 }, (_, i) => ({
      sli: 'api-requests',
      ts: new Date(Date.parse(at) - (60 - i) * 60_000).toISOString(),
      bad: 2,
      total: 1000,
    }));
    const { code, stdout } = await runCli([
      'budget',
      specs,
      '--data',
      await dataFile(lines),
      '--at',
      at,
      '--json',
    ]);
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report.at).toBe('2026-11-23T00:00:00.000Z');
    const [slo] = report.slos;
    expect(slo).toMatchObject({
      id: 'api-availability',
      service: 'api',
      target: 0.999,
      window: '30d',
      dataSufficient: false,
    });
    expect(slo.sli).toBeCloseTo(0.998, 12);
    expect(slo.budget.total).toBeCloseTo(60, 9); // 0.1% of 60,000 events
    expect(slo.budget.consumed).toBe(120);
    expect(slo.budget.remaining).toBeCloseTo(-1, 9);
    expect(slo.burnRates['1h']).toBeCloseTo(2, 9);
    expect(slo.burnRates['30d']).toBeCloseTo(2, 9);
    expect(Object.keys(slo.burnRates)).toEqual(['5m', '30m', '1h', '2h', '6h', '1d', '3d', '30d']);
    expect(slo.exhaustionAt).toBe('2026-11-23T00:00:00.000Z'); // already overspent
  });

  it('reads CSV with bad counts and prints a readable table', async () => {
    const specs = await tempFile('slo.yaml', SLO);
    const csv = [
      'sli,ts,bad,total',
      ...Array.from({ length: 10 }, (_, i) => `api-availability,2026-11-22T23:${50 + i}:00Z,0,500`),
    ].join('\n');
    const { code, stdout } = await runCli([
      'budget',
      specs,
      '--data',
      await tempFile('data.csv', csv),
      '--at',
      at,
    ]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/SLO\s+SERVICE\s+TARGET/);
    expect(stdout).toMatch(/api-availability\s+api\s+99\.9%\s+30d\s+100\.000%\s+100\.0%/);
  });

  it('stops with one readable line naming the first bad data line', async () => {
    const specs = await tempFile('slo.yaml', SLO);
    const data = await tempFile(
      'data.ndjson',
      '{"sli":"api-requests","ts":"2026-11-22T00:00:00Z","good":5,"total":10}\n{"sli":"api-requests","ts":"yesterday","good":1,"total":1}\nnot json\n',
    );
    const { code, stderr, stdout } = await runCli(['budget', specs, '--data', data]);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(
      /data\.ndjson:2: "ts": "yesterday" is not an ISO 8601 time .*\(and 1 more bad line\)/,
    );
  });

  it('reports a huge healthy minute followed by errors, exhaustion "never" (—), and refuses counts beyond 1e12', async () => {
    const specs = await tempFile('slo.yaml', SLO);
    const minute = (offsetMin: number) => new Date(Date.parse(at) - offsetMin * 60_000).toISOString();
    // The issue's shape within the bound: a minute of 1e12 good events, then a few errors.
    const data = await dataFile([
      { sli: 'api-requests', ts: minute(30), good: 1e12, total: 1e12 },
      { sli: 'api-requests', ts: minute(5), bad: 1e-6, total: 100 },
    ]);
    const json = await runCli(['budget', specs, '--data', data, '--at', at, '--json']);
    expect(json.code).toBe(0);
    const [slo] = JSON.parse(json.stdout).slos;
    expect(slo.burnRates['1h']).toBeGreaterThan(0);
    expect(slo.exhaustionAt).toBeNull();
    const table = await runCli(['budget', specs, '--data', data, '--at', at]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^api-availability\s.*\s—\s+partial/m);

    const tooBig = await dataFile([
      { sli: 'api-requests', ts: minute(3), good: 1.7e308, total: 1.7e308 },
      { sli: 'api-requests', ts: minute(3), good: 1.7e308, total: 1.7e308 },
    ]);
    const refused = await runCli(['budget', specs, '--data', tooBig, '--at', at]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(
      /data\.ndjson:1: "good": at most 1e12 events are accepted per row .*\(and 1 more bad line\)\n$/,
    );
    const sum = await dataFile([
      { sli: 'api-requests', ts: minute(3), good: 6e11, total: 6e11 },
      { sli: 'api-requests', ts: minute(3), good: 6e11, total: 6e11 },
    ]);
    const summed = await runCli(['budget', specs, '--data', sum, '--at', at]);
    expect(summed.code).toBe(1);
    expect(summed.stderr).toMatch(
      /data\.ndjson:2: "total": the rows of "api-requests" for minute 2026-11-22T23:57:00\.000Z add up to 1200000000000 events; at most 1e12 per minute/,
    );
  });

  it('refuses invalid specs with the first error and a pointer to validate', async () => {
    const { code, stderr } = await runCli([
      'budget',
      sharedFixture('openslo/v1-upstream'),
      '--data',
      '/dev/null',
    ]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/^shinrai: .*:\d+:\d+ {2}\S+ .*run `shinrai validate/);
  });

  it('rejects a bad --at with a usage error', async () => {
    const specs = await tempFile('slo.yaml', SLO);
    const { code, stderr } = await runCli(['budget', specs, '--data', '/dev/null', '--at', 'tomorrow']);
    expect(code).toBe(2);
    expect(stderr).toContain('--at "tomorrow" is not an ISO 8601 time');
  });

  it('warns about data that matches no SLO', async () => {
    const specs = await tempFile('slo.yaml', SLO);
    const data = await dataFile([{ sli: 'api-requsts', ts: '2026-11-22T23:00:00Z', good: 1, total: 1 }]);
    const { code, stderr } = await runCli(['budget', specs, '--data', data, '--at', at]);
    expect(code).toBe(0);
    expect(stderr).toContain('"api-requsts" matches no SLO');
  });
});

describe('shinrai demo', () => {
  it('evaluates the example shop on seeded synthetic traffic, the same for the same seed', async () => {
    const first = await runCli(['demo', '--once', '--seed-days', '3', '--json']);
    const second = await runCli(['demo', '--once', '--seed-days', '3', '--json']);
    expect(first.code).toBe(0);
    expect(first.stdout).toBe(second.stdout);
    const report = JSON.parse(first.stdout);
    expect(report.slos.map((s: { id: string }) => s.id).sort()).toEqual([
      'checkout-availability',
      'checkout-latency',
      'login-availability',
      'search-availability',
      'search-latency',
    ]);
    for (const slo of report.slos) expect(slo.sli).toBeGreaterThan(0.9);
  });

  it('--once --at ends the history at that time, so budget --at the same time has the data', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'shinrai-cli-'));
    const file = join(dir, 'shop.ndjson');
    const at = '2026-11-01T00:00:00Z';
    const exported = await runCli(['demo', '--once', '--seed-days', '1', '--at', at, '--export', file]);
    expect(exported.code).toBe(0);
    const lines = (await readFile(file, 'utf8')).trim().split('\n');
    const times = lines.map((l) => Date.parse(JSON.parse(l).ts));
    expect(Math.max(...times)).toBeLessThan(Date.parse(at));
    expect(Math.min(...times)).toBeGreaterThanOrEqual(Date.parse(at) - 86_400_000);
    const budget = await runCli(['budget', DEMO_SPECS, '--data', file, '--at', at, '--json']);
    expect(budget.stderr).toBe('');
    for (const slo of JSON.parse(budget.stdout).slos) expect(slo.sli).toBeGreaterThan(0.9);
    // Before the data: a warning that says what the data covers (it used to be a silent "no data").
    const early = await runCli(['budget', DEMO_SPECS, '--data', file, '--at', '2026-10-01T00:00:00Z']);
    expect(early.code).toBe(0);
    expect(early.stderr).toMatch(
      /^warning: --at 2026-10-01T00:00:00\.000Z is before the data, which covers 2026-10-31T00:00:00\.000Z – 2026-10-31T23:59:00\.000Z: no data to evaluate\n$/,
    );
    expect((await runCli(['demo', '--at', at])).code).toBe(2);
  });

  it('loads the bundled example specs without warnings', async () => {
    const { code, stdout } = await runCli(['validate', DEMO_SPECS, '--strict']);
    expect(stdout).toMatch(/0 errors, 0 warnings/);
    expect(code).toBe(0);
  });
});
