import { describe, expect, it } from 'vitest';
import { sharedFixture } from '../../../test/support/fixtures.js';
import { loadSpecText } from '../spec/load.js';
import { alertRulesFor } from './alert-rules.js';

const HOUR = 3_600_000;
const MIN = 60_000;

const sloYaml = (window: string, extra = '') => `
apiVersion: openslo/v1
kind: SLO
metadata: { name: api }
spec:
  service: shop
  budgetingMethod: Occurrences
  timeWindow: [${window}]
  indicator:
    metadata: { name: api-requests }
    spec:
      ratioMetric:
        good: { metricSource: { type: shinrai, spec: {} } }
        total: { metricSource: { type: shinrai, spec: {} } }
  objectives: [{ target: 0.999 }]
${extra}`;

const sloOf = (text: string) => {
  const loaded = loadSpecText('slo.yaml', text);
  expect(loaded.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return loaded.catalog.slos[0]!;
};

describe('alertRulesFor: the Workbook defaults scaled to the period', () => {
  it.each([
    ['{ duration: 30d, isRolling: true }', [14.4, 6, 3, 1]],
    ['{ duration: 28d, isRolling: true }', [13.44, 5.6, 2.8, 0.9333333333333333]],
    ['{ duration: 7d, isRolling: true }', [3.36, 1.4, 0.7, 0.23333333333333334]],
    [
      '{ duration: 1M, calendar: { startTime: "2026-01-01 00:00:00", timeZone: Asia/Tokyo } }',
      [14.4, 6, 3, 1],
    ],
  ])('%s → factors %j', (window, factors) => {
    const result = alertRulesFor(sloOf(sloYaml(window)));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const [page, ticket] = result.rules;
    expect(page).toMatchObject({
      name: 'page',
      tier: 'page',
      severity: 'critical',
      forMs: 0,
      source: 'workbook',
    });
    expect(ticket).toMatchObject({ name: 'ticket', tier: 'ticket', severity: 'warning' });
    const all = [...page!.conditions, ...ticket!.conditions];
    for (const [i, c] of all.entries()) expect(c.factor).toBeCloseTo(factors[i]!, 12);
    expect(all.map((c) => [c.longWindowMs, c.shortWindowMs, c.budgetPercent])).toEqual([
      [HOUR, 5 * MIN, 2],
      [6 * HOUR, 30 * MIN, 5],
      [24 * HOUR, 2 * HOUR, 10],
      [72 * HOUR, 6 * HOUR, 10],
    ]);
  });

  it('refuses a period shorter than the longest default window', () => {
    const result = alertRulesFor(sloOf(sloYaml('{ duration: 1d, isRolling: true }')));
    expect(result).toMatchObject({
      ok: false,
      error: expect.stringContaining('shorter than the 3d alert window'),
    });
  });
});

describe('alertRulesFor: Sloth and OpenSLO settings', () => {
  it('drops a tier Sloth disables and carries its labels', () => {
    const loaded = loadSpecText(
      'sloth.yaml',
      `version: prometheus/v1
service: shop
slos:
  - name: api
    objective: 99.9
    sli: { events: { error_query: 'sum(rate(e[{{.window}}]))', total_query: 'sum(rate(t[{{.window}}]))' } }
    alerting:
      name: ApiHighErrorRate
      labels: { team: api }
      page_alert: { labels: { route: pager } }
      ticket_alert: { disable: true }
`,
    );
    const result = alertRulesFor(loaded.catalog.slos[0]!);
    expect(result.ok && result.rules.map((r) => [r.name, r.source, r.labels])).toEqual([
      ['page', 'sloth', { team: 'api', route: 'pager' }],
      ['no-data', 'workbook', {}],
      ['budget-exhausted', 'workbook', {}],
    ]);
  });

  it('turns OpenSLO burn-rate conditions into rules that replace the defaults', () => {
    const policy = `  alertPolicies:
    - kind: AlertPolicy
      metadata: { name: fast-burn }
      spec:
        alertWhenBreaching: true
        alertWhenResolved: false
        alertWhenNoData: true
        conditions:
          - kind: AlertCondition
            metadata: { name: one-hour }
            spec:
              severity: page
              condition: { kind: burnrate, op: gte, threshold: 10, lookbackWindow: 1h, alertAfter: 5m }
        notificationTargets: []
`;
    const result = alertRulesFor(sloOf(sloYaml('{ duration: 30d, isRolling: true }', policy)));
    expect(result.ok && result.rules.map((r) => r.name)).toEqual([
      'fast-burn/one-hour',
      'no-data',
      'budget-exhausted',
    ]);
    expect(result.ok && result.rules.slice(0, 1)).toEqual([
      {
        name: 'fast-burn/one-hour',
        tier: 'page',
        severity: 'page',
        conditions: [{ longWindowMs: HOUR, factor: 10, op: 'gte' }],
        forMs: 5 * MIN,
        labels: {},
        annotations: {},
        source: 'openslo',
        notifyNoData: true,
        notifyResolved: false,
      },
    ]);
  });
});

describe('custom AlertWindows in the specs', () => {
  it('choose the windows of their period for the live rules and the engine', async () => {
    const { readFileSync } = await import('node:fs');
    const windows = readFileSync(sharedFixture('sloth/windows/7d.yaml'), 'utf8');
    const loaded = loadSpecText(
      'specs.yaml',
      `${windows}\n---\n${sloYaml('{ duration: 7d, isRolling: true }')}`,
    );
    expect(loaded.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const { windowsFromDefinition } = await import('./windows.js');
    const result = alertRulesFor(
      loaded.catalog.slos[0]!,
      (loaded.catalog.alertWindows ?? []).map(windowsFromDefinition),
    );
    // 8% of a 7-day budget in an hour: 8 × 168 / 100 / 1 = 13.44
    expect(result.ok && result.rules[0]!.conditions.map((c) => c.factor)).toEqual([13.44, 3.5]);
  });
});
