import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ratioSloYaml } from '../../../test/support/specs.js';
import { runCli } from '../testing.js';

const MIN = 60_000;
const START = Date.UTC(2026, 9, 1);
const dir = mkdtempSync(join(tmpdir(), 'shinrai-backtest-'));
const specs = join(dir, 'slo.yaml');
const data = join(dir, 'data.ndjson');
const policy = join(dir, 'policy.yaml');

writeFileSync(
  specs,
  ratioSloYaml('api', { service: 'shop', sli: 'api-requests', window: '30d', target: 0.999 }),
);
// Three days of 1,000 requests a minute, with a 30-minute full outage on day two.
const outageStart = 2 * 1440;
writeFileSync(
  data,
  Array.from({ length: 3 * 1440 }, (_, i) => {
    const bad = i >= outageStart && i < outageStart + 30 ? 1000 : 0;
    return JSON.stringify({
      sli: 'api-requests',
      ts: new Date(START + i * MIN).toISOString(),
      bad,
      total: 1000,
    });
  }).join('\n'),
);
writeFileSync(
  policy,
  `apiVersion: openslo/v1
kind: AlertPolicy
metadata: { name: slow-pager }
spec:
  alertWhenBreaching: true
  alertWhenResolved: true
  alertWhenNoData: false
  conditions:
    - kind: AlertCondition
      metadata: { name: twenty-x-for-10m }
      spec:
        severity: page
        condition: { kind: burnrate, op: gt, threshold: 20, lookbackWindow: 1h, alertAfter: 10m }
  notificationTargets: []
`,
);

describe('shinrai backtest', () => {
  it('reports what the default policy would have caught, and compares another policy', async () => {
    const { code, stdout } = await runCli(['backtest', specs, '--data', data, '--compare', policy, '--json']);
    expect(code).toBe(0);
    const [slo] = JSON.parse(stdout).slos;
    expect(slo.id).toBe('api');
    const [defaults, slow] = slo.policies;
    expect(defaults.policy).toBe('specs');
    expect(defaults.report.events).toHaveLength(1);
    expect(defaults.report.events[0].detectedBy).toEqual({ rule: 'page', tier: 'page', afterMinutes: 1 });
    // 20× over 1h needs 1.2 minutes of a full outage, then 10 minutes of alertAfter.
    expect(slow.policy).toBe(policy);
    expect(slow.report.events[0].detectedBy).toEqual({
      rule: 'slow-pager/twenty-x-for-10m',
      tier: 'page',
      afterMinutes: 12,
    });
  });

  it('prints a table by default', async () => {
    const { code, stdout } = await runCli(['backtest', specs, '--data', data]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/SLO\s+policy\s+pages\/week/);
    expect(stdout).toMatch(/api\s+specs\s+2\.33\s+2\.33\s+1\/1\s+1 min/);
  });

  it('stops with one readable line on bad input', async () => {
    const missing = await runCli(['backtest', specs, '--data', join(dir, 'nope.ndjson')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toContain('cannot read data file');
    const share = await runCli(['backtest', specs, '--data', data, '--min-share', '0']);
    expect(share.code).toBe(2);
    const noPolicy = await runCli(['backtest', specs, '--data', data, '--policy', specs]);
    expect(noPolicy.code).toBe(1);
    expect(noPolicy.stderr).toContain('no AlertPolicy (OpenSLO) or AlertWindows (Sloth) objects');
  });
});
