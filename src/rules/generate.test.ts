import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Catalog } from '../slo/index.js';
import { loadSpecText, SLOTH_WINDOWS_30D } from '../slo/index.js';
import {
  type AlertingRule,
  generateRules,
  multiBurnRateExpr,
  periodSliExpr,
  type RecordingRule,
  type RuleGroup,
  sliErrorExpr,
} from './generate.js';
import { defaultAlertName, type RuleSlo, ruleSlos } from './rule-slos.js';

const DAY_MS = 86_400_000;

function catalogOf(text: string): Catalog {
  const result = loadSpecText('spec.yaml', text);
  expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return result.catalog;
}

const SLOTH = `version: "prometheus/v1"
service: "api"
labels:
  owner: team-a
  env: prod
slos:
  - name: "availability"
    objective: 99.9
    labels:
      tier: "1"
    sli:
      events:
        error_query: sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total[{{ .window }}]))
    alerting:
      name: ApiAvailability
      labels:
        team: a
      annotations:
        runbook: https://runbooks.example.com/api
      page_alert:
        labels:
          severity: critical
        annotations:
          summary: Paging summary
      ticket_alert:
        disable: true
`;

function openslo(indicator: string, extra = ''): string {
  return `apiVersion: openslo/v1
kind: SLO
metadata:
  name: checkout-availability
  labels:
    team: [team-a, team-b]
    openslo.com/weird: x
  annotations:
    shinrai.dev/runbook: https://runbooks.example.com/checkout
spec:
  service: checkout
  indicator:
    metadata:
      name: checkout-requests
    spec:
${indicator}
  timeWindow:
    - duration: 28d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - target: 0.995
${extra}`;
}

const GOOD_TOTAL = `      ratioMetric:
        counter: true
        good:
          metricSource:
            type: Prometheus
            spec:
              query: sum(rate(http_requests_total{code!~"5.."}[{{.window}}]))
        total:
          metricSource:
            type: Prometheus
            spec:
              query: sum(rate(http_requests_total[{{.window}}]))`;

const sloFixture: RuleSlo = {
  id: 'api-availability',
  name: 'availability',
  service: 'api',
  objectivePercent: 99.9,
  periodMs: 30 * DAY_MS,
  sli: { kind: 'raw', errorRatioQuery: 'x' },
  labels: {},
  mode: 'cli-gen-prom',
  spec: 'prometheus/v1',
  location: { file: 'f', line: 1, column: 1 },
};

const FILTER = '{sloth_id="api-availability", sloth_service="api", sloth_slo="availability"}';

function group(groups: readonly RuleGroup[], prefix: string): RuleGroup {
  const found = groups.find((g) => g.name.startsWith(prefix));
  if (!found) throw new Error(`no group ${prefix} in ${groups.map((g) => g.name).join(', ')}`);
  return found;
}

function record(groups: readonly RuleGroup[], name: string): RecordingRule {
  const rule = groups.flatMap((g) => g.rules).find((r) => 'record' in r && r.record === name);
  if (!rule) throw new Error(`no record ${name}`);
  return rule as RecordingRule;
}

describe('expression building', () => {
  it('divides the error query by the total query for events SLIs, filling every {{.window}} form', () => {
    expect(
      sliErrorExpr(
        { kind: 'events', errorQuery: 'e[{{.window}}]', totalQuery: 't[{{ .window }}]' },
        3_600_000,
      ),
    ).toBe('(e[1h])\n/\n(t[1h])\n');
  });

  it('wraps a raw error-ratio query in parentheses', () => {
    expect(sliErrorExpr({ kind: 'raw', errorRatioQuery: '1 - r[{{.window}}]' }, 28 * DAY_MS)).toBe(
      '(1 - r[4w])',
    );
  });

  it('averages the shortest window’s recorded ratio over the period for the period SLI', () => {
    expect(periodSliExpr(sloFixture, 300_000)).toBe(
      `sum_over_time(slo:sli_error:ratio_rate5m${FILTER}[30d])\n/ ignoring (sloth_window)\ncount_over_time(slo:sli_error:ratio_rate5m${FILTER}[30d])\n`,
    );
  });

  it('builds the multiwindow multi-burn-rate condition with Go-printed constants', () => {
    const expr = multiBurnRateExpr(
      sloFixture,
      { shortWindowMs: 300_000, longWindowMs: 3_600_000, factor: 14.4 },
      { shortWindowMs: 1_800_000, longWindowMs: 21_600_000, factor: 6 },
      (100 - 99.9) / 100,
    );
    const line = (w: string, f: string) =>
      `    max(slo:sli_error:ratio_rate${w}${FILTER} > (${f} * 0.0009999999999999432)) without (sloth_window)`;
    expect(expr).toBe(
      `(\n${line('5m', '14.4')}\n    and\n${line('1h', '14.4')}\n)\nor\n(\n${line('30m', '6')}\n    and\n${line('6h', '6')}\n)\n`,
    );
  });

  it('names default alerts after the SLO in PascalCase', () => {
    expect(defaultAlertName('checkout-availability')).toBe('CheckoutAvailabilityErrorBudgetBurn');
    expect(defaultAlertName('9lives.api')).toBe('Slo9livesApiErrorBudgetBurn');
  });
});

describe('generateRules from a Sloth spec', () => {
  const catalog = catalogOf(SLOTH);

  it('generates the three groups with Sloth’s names and the seven windows plus the period', () => {
    const { groups, warnings } = generateRules(catalog);
    expect(warnings).toEqual([]);
    expect(groups.map((g) => g.name)).toEqual([
      'sloth-slo-sli-recordings-api-availability',
      'sloth-slo-meta-recordings-api-availability',
      'sloth-slo-alerts-api-availability',
    ]);
    expect(group(groups, 'sloth-slo-sli').rules.map((r) => (r as RecordingRule).record)).toEqual(
      ['5m', '30m', '1h', '2h', '6h', '1d', '3d', '30d'].map((w) => `slo:sli_error:ratio_rate${w}`),
    );
    expect(group(groups, 'sloth-slo-meta').rules.map((r) => (r as RecordingRule).record)).toEqual([
      'slo:objective:ratio',
      'slo:error_budget:ratio',
      'slo:time_period:days',
      'slo:current_burn_rate:ratio',
      'slo:period_burn_rate:ratio',
      'slo:period_error_budget_remaining:ratio',
      'sloth_slo_info',
    ]);
  });

  it('labels recordings with the id labels, the window and the spec labels; -l labels override spec labels', () => {
    const { groups } = generateRules(catalog, { extraLabels: { env: 'staging', cmd: 'ci' } });
    expect(record(groups, 'slo:sli_error:ratio_rate1h').labels).toEqual({
      cmd: 'ci',
      env: 'staging',
      owner: 'team-a',
      tier: '1',
      sloth_id: 'api-availability',
      sloth_service: 'api',
      sloth_slo: 'availability',
      sloth_window: '1h',
    });
    expect(record(groups, 'sloth_slo_info').labels).toMatchObject({
      sloth_mode: 'cli-gen-prom',
      sloth_spec: 'prometheus/v1',
      sloth_objective: '99.9',
      sloth_version: 'shinrai',
    });
  });

  it('writes the objective and budget as Sloth computes them in float64', () => {
    const { groups } = generateRules(catalog);
    expect(record(groups, 'slo:objective:ratio').expr).toBe('vector(0.9990000000000001)');
    expect(record(groups, 'slo:error_budget:ratio').expr).toBe('vector(1-0.9990000000000001)');
    expect(record(groups, 'slo:time_period:days').expr).toBe('vector(30)');
  });

  it('merges alert labels and annotations (tier over SLO over Sloth defaults) and skips a disabled tier', () => {
    const alerts = group(generateRules(catalog).groups, 'sloth-slo-alerts').rules as AlertingRule[];
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.alert).toBe('ApiAvailability');
    expect(alerts[0]!.labels).toEqual({ sloth_severity: 'page', team: 'a', severity: 'critical' });
    expect(alerts[0]!.annotations).toEqual({
      title: '(page) {{$labels.sloth_service}} {{$labels.sloth_slo}} SLO error budget burn rate is too fast.',
      summary: 'Paging summary',
      runbook: 'https://runbooks.example.com/api',
    });
  });

  it('uses the given period: 28 days records ratio_rate4w with 28-day factors', () => {
    const { groups } = generateRules(catalog, { defaultPeriodMs: 28 * DAY_MS });
    expect(record(groups, 'slo:sli_error:ratio_rate4w').labels.sloth_window).toBe('4w');
    expect(record(groups, 'slo:time_period:days').expr).toBe('vector(28)');
    const alert = group(groups, 'sloth-slo-alerts').rules[0]!;
    expect(alert.expr).toContain('> (13.44 * 0.0009999999999999432)');
    expect(alert.expr).toContain('> (5.6000000000000005 * 0.0009999999999999432)');
  });

  it('leaves out alerts or recordings on request', () => {
    expect(generateRules(catalog, { disableAlerts: true }).groups.map((g) => g.name)).toEqual([
      'sloth-slo-sli-recordings-api-availability',
      'sloth-slo-meta-recordings-api-availability',
    ]);
    expect(generateRules(catalog, { disableRecordings: true }).groups.map((g) => g.name)).toEqual([
      'sloth-slo-alerts-api-availability',
    ]);
  });

  it('uses custom windows for their period', () => {
    const custom = {
      ...SLOTH_WINDOWS_30D,
      page: {
        ...SLOTH_WINDOWS_30D.page,
        quick: { errorBudgetPercent: 1, shortWindowMs: 600_000, longWindowMs: 3_600_000 },
      },
    };
    const result = generateRules(catalog, { windows: [custom] });
    expect(result.slos).toEqual([{ id: 'api-availability', periodMs: 30 * DAY_MS, windowsSource: 'custom' }]);
    expect(record(result.groups, 'slo:sli_error:ratio_rate10m').labels.sloth_window).toBe('10m');
    expect(record(result.groups, 'slo:current_burn_rate:ratio').expr).toMatch(
      /^slo:sli_error:ratio_rate10m\{/,
    );
  });

  it('skips SLOs whose period has no usable windows, with a warning', () => {
    const result = generateRules(catalog, { defaultPeriodMs: DAY_MS });
    expect(result.groups).toEqual([]);
    expect(result.warnings).toEqual([
      expect.objectContaining({
        sloId: 'api-availability',
        message: expect.stringMatching(/^skipped: .*shorter/),
      }),
    ]);
  });
});

describe('generateRules from OpenSLO v1', () => {
  it('turns good/total into error = 1 − good/total as Sloth does for OpenSLO, in the SLO’s own window', () => {
    const { groups, warnings } = generateRules(catalogOf(openslo(GOOD_TOTAL)));
    expect(warnings.filter((w) => w.message.startsWith('skipped'))).toEqual([]);
    expect(record(groups, 'slo:sli_error:ratio_rate5m').expr).toBe(
      '(\n  1 - (\n    (\n      sum(rate(http_requests_total{code!~"5.."}[5m]))\n    )\n    /\n    (\n      sum(rate(http_requests_total[5m]))\n    )\n  )\n)',
    );
    expect(record(groups, 'slo:time_period:days').expr).toBe('vector(28)');
    expect(record(groups, 'sloth_slo_info').labels).toMatchObject({
      sloth_id: 'checkout-availability',
      sloth_service: 'checkout',
      sloth_slo: 'checkout-availability',
      sloth_mode: 'cli-gen-openslo',
      sloth_spec: 'openslo/v1',
      sloth_objective: '99.5',
      team: 'team-a,team-b',
    });
  });

  it('gives page and ticket alerts with Shinrai defaults: named after the SLO, runbook from the annotations', () => {
    const alerts = group(generateRules(catalogOf(openslo(GOOD_TOTAL))).groups, 'sloth-slo-alerts')
      .rules as AlertingRule[];
    expect(alerts.map((a) => [a.alert, a.labels.sloth_severity])).toEqual([
      ['CheckoutAvailabilityErrorBudgetBurn', 'page'],
      ['CheckoutAvailabilityErrorBudgetBurn', 'ticket'],
    ]);
    expect(alerts[0]!.annotations.runbook_url).toBe('https://runbooks.example.com/checkout');
  });

  it('drops label names Prometheus rejects, with a warning', () => {
    const { slos, warnings } = ruleSlos(catalogOf(openslo(GOOD_TOTAL)));
    expect(slos[0]!.labels).toEqual({ team: 'team-a,team-b' });
    expect(warnings.map((w) => w.message)).toEqual([
      expect.stringContaining('"openslo.com/weird" is dropped'),
    ]);
  });

  it('uses bad/total as Sloth events and a raw success ratio as 1 − ratio', () => {
    const badTotal = GOOD_TOTAL.replace('good:', 'bad:').replace('code!~', 'code=~');
    expect(ruleSlos(catalogOf(openslo(badTotal))).slos[0]!.sli).toEqual({
      kind: 'events',
      errorQuery: 'sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))',
      totalQuery: 'sum(rate(http_requests_total[{{.window}}]))',
    });
    const raw = `      ratioMetric:
        rawType: success
        raw:
          metricSource:
            type: prometheus
            spec:
              query: avg_over_time(up[{{.window}}])`;
    expect(ruleSlos(catalogOf(openslo(raw))).slos[0]!.sli).toEqual({
      kind: 'raw',
      errorRatioQuery: '1 - (avg_over_time(up[{{.window}}]))',
    });
  });

  it('skips SLIs that are not PromQL with {{.window}}, or threshold SLIs, with a warning and no error', () => {
    const cases: [string, RegExp][] = [
      [
        GOOD_TOTAL.replaceAll('type: Prometheus', 'type: Datadog'),
        /type "Datadog" is not Prometheus-compatible/,
      ],
      [GOOD_TOTAL.replaceAll('[{{.window}}]', '[5m]'), /does not use \{\{\.window\}\}/],
    ];
    for (const [indicator, message] of cases) {
      const result = generateRules(catalogOf(openslo(indicator)));
      expect(result.groups).toEqual([]);
      expect(result.warnings.map((w) => w.message)).toContainEqual(expect.stringMatching(message));
    }
    const threshold = `      thresholdMetric:
        metricSource:
          type: Prometheus
          spec:
            query: histogram_quantile(0.99, rate(latency_bucket[{{.window}}]))`;
    const result = generateRules(
      catalogOf(
        openslo(threshold).replace(
          '    - target: 0.995',
          '    - target: 0.995\n      op: lte\n      value: 0.3',
        ),
      ),
    );
    expect(result.groups).toEqual([]);
    expect(result.warnings.map((w) => w.message)).toContainEqual(expect.stringMatching(/threshold SLI/));
  });

  it('reads the query type from a referenced DataSource', () => {
    const withRef = GOOD_TOTAL.replaceAll('type: Prometheus', 'metricSourceRef: thanos-eu');
    const text = `${openslo(withRef)}---
apiVersion: openslo/v1
kind: DataSource
metadata:
  name: thanos-eu
spec:
  type: Thanos
  connectionDetails:
    url: http://thanos.example.com
`;
    expect(generateRules(catalogOf(text)).slos.map((s) => s.id)).toEqual(['checkout-availability']);
  });

  it('gives each objective of a multi-objective SLO its own sloth_id', () => {
    const twoObjectives = openslo(GOOD_TOTAL).replace(
      '    - target: 0.995\n',
      '    - displayName: Good\n      target: 0.995\n    - displayName: Great\n      target: 0.999\n',
    );
    const { slos } = ruleSlos(catalogOf(twoObjectives));
    expect(slos.map((s) => [s.id, s.name, s.objectivePercent])).toEqual([
      ['checkout-availability-good', 'checkout-availability-good', 99.5],
      ['checkout-availability-great', 'checkout-availability-great', 99.9],
    ]);
  });

  it('turns a calendar window into a rolling period of the same length, with a warning', () => {
    const calendar = openslo(GOOD_TOTAL).replace(
      '    - duration: 28d\n      isRolling: true',
      '    - duration: 1w\n      isRolling: false\n      calendar:\n        startTime: 2026-01-05 00:00:00\n        timeZone: Asia/Tokyo',
    );
    const { slos, warnings } = ruleSlos(catalogOf(calendar));
    expect(slos[0]!.periodMs).toBe(7 * DAY_MS);
    expect(warnings.map((w) => w.message)).toContainEqual(
      expect.stringMatching(/calendar window 1w becomes a rolling 1w/),
    );
  });
});

describe('generateRules for any objective and period', () => {
  it('writes constants that parse back to the objective, and thresholds of factor × (1 − target)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 5_000, max: 9_999_999 }),
        fc.integer({ min: 3, max: 400 }),
        (hundredThousandths, periodDays) => {
          const objective = hundredThousandths / 100_000;
          const catalog = catalogOf(SLOTH.replace('objective: 99.9', `objective: ${objective}`));
          const { groups, warnings } = generateRules(catalog, { defaultPeriodMs: periodDays * DAY_MS });
          expect(warnings).toEqual([]);
          expect(groups).toHaveLength(3);
          const ratio = Number(/^vector\((.*)\)$/.exec(record(groups, 'slo:objective:ratio').expr)![1]);
          expect(ratio).toBeCloseTo(objective / 100, 12);
          const alert = group(groups, 'sloth-slo-alerts').rules[0]!;
          const [, factor, budget] = /> \(([^ ]+) \* ([^ )]+)\)/.exec(alert.expr)!;
          expect(Number(factor)).toBeCloseTo((2 * periodDays * 24) / 100, 9);
          expect(Number(budget)).toBeCloseTo(1 - objective / 100, 12);
        },
      ),
      { numRuns: 50 },
    );
  });
});
