import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ratioSloYaml } from '../../../test/support/specs.js';
import { runCli } from '../testing.js';

const dir = mkdtempSync(join(tmpdir(), 'shinrai-risks-'));
writeFileSync(join(dir, 'slo.yaml'), ratioSloYaml('api', { service: 'shop', target: 0.999, window: '30d' }));
// The published worked row: ETTD 5, ETTR 30, impact 100%, ETTF 30 days against a 99.9% SLO.
writeFileSync(
  join(dir, 'risks.yaml'),
  `apiVersion: shinrai.dev/v1
kind: Risk
metadata: { name: db-failover-manual }
spec: { service: shop, ettd: 5m, ettr: 30m, impact: 100%, ettf: 30d }
`,
);

describe('shinrai risks', () => {
  it('prints the ranked risks and each SLO’s share; exit 0 without --strict', async () => {
    const run = await runCli(['risks', dir]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /db-failover-manual\s+shop\s+open\s+5m\s+30m\s+100\.0%\s+30\.0d\s+12\.175\s+426\.1\s+81\.0%\s+TOO BIG/,
    );
    expect(run.stdout).toContain(
      'api (99.9%): risks not mitigated need 426.1 of 525.96 budget minutes a year (81.0%)',
    );
  });

  it('fails --strict on a too-big risk, unless the threshold allows it', async () => {
    expect((await runCli(['risks', dir, '--strict'])).code).toBe(1);
    expect((await runCli(['risks', dir, '--strict', '--too-big', '90%'])).code).toBe(0);
    const bad = await runCli(['risks', dir, '--too-big', '250%']);
    expect([bad.code, bad.stderr.trim().split('\n').length]).toEqual([2, 1]);
  });

  it('prints JSON with the figures', async () => {
    const run = await runCli(['risks', dir, '--json']);
    const analysis = JSON.parse(run.stdout);
    expect(analysis.risks[0]).toMatchObject({
      incidentsPerYear: 12.175,
      badMinutesPerYear: 426.125,
      tooBig: true,
    });
    expect(analysis.slos[0].share).toBeCloseTo(0.8102, 4);
  });
});
