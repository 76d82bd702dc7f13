import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { at, expectDiagnostic } from '../../../test/support/diagnostics.js';
import { sharedFixture } from '../../../test/support/fixtures.js';
import { Checker } from './check.js';
import type { Diagnostic } from './diagnostics.js';
import { parseSpecText } from './documents.js';
import { convertOpenSloV1alpha } from './openslo-v1alpha.js';
import type { ParsedObject, PendingSlo } from './parsed.js';

function convert(text: string, file = 'slo.yml') {
  const parsed = parseSpecText(file, text);
  const out: ParsedObject[] = [];
  const diagnostics: Diagnostic[] = [...parsed.diagnostics];
  for (const object of parsed.objects) {
    const checker = new Checker(object);
    out.push(...convertOpenSloV1alpha(object, checker));
    diagnostics.push(...checker.diagnostics);
  }
  return {
    out,
    slos: out.flatMap((p) => (p.kind === 'SLO' ? [p.def] : [])),
    services: out.flatMap((p) => (p.kind === 'Service' ? [p.def] : [])),
    diagnostics,
    errors: diagnostics.filter((d) => d.severity === 'error'),
    warnings: diagnostics.filter((d) => d.severity === 'warning'),
  };
}

/** `sloth_id` → `sloth_slo` of the rules Sloth generated for a fixture. */
function slothNames(outFile: string): Map<string, string> {
  const names = new Map<string, string>();
  const text = readFileSync(sharedFixture(`sloth/out/${outFile}`), 'utf8');
  const value = parse(text) as { groups: { rules: { labels?: Record<string, string> }[] }[] };
  for (const group of value.groups)
    for (const rule of group.rules)
      if (rule.labels?.sloth_id) names.set(rule.labels.sloth_id, rule.labels.sloth_slo ?? '');
  return names;
}

const FIXTURE = 'openslo-getting-started.yml';

const BASE = `apiVersion: openslo/v1alpha
kind: SLO
metadata:
  name: checkout
  displayName: Checkout
  annotations:
    shinrai.dev/owner: payments
spec:
  service: shop
  budgetingMethod: Occurrences
  objectives:
    - displayName: Fast and fine
      ratioMetrics:
        good:
          source: prometheus
          queryType: promql
          query: sum(rate(http_requests_total{code!~"5.."}[{{.window}}]))
        total:
          source: prometheus
          queryType: promql
          query: sum(rate(http_requests_total[{{.window}}]))
      target: 0.995
  timeWindows:
    - count: 28
      unit: Day
      isRolling: true
`;

describe('OpenSLO v1alpha fixture (slok/sloth examples)', () => {
  const text = readFileSync(sharedFixture(`sloth/in/${FIXTURE}`), 'utf8');

  it('converts with zero diagnostics and the id and name Sloth generated', () => {
    const result = convert(text, FIXTURE);
    expect(result.diagnostics).toEqual([]);
    const expected = slothNames(FIXTURE);
    expect(result.slos.map((s) => [s.id, s.name])).toEqual([...expected.entries()]);
    expect(result.slos.map((s) => s.id)).toEqual(['my-service-sloth-slo-my-service-0']);
  });

  it('maps the ratio objective, the 30-day window and turns alerts off', () => {
    const def = convert(text, FIXTURE).slos[0]!;
    expect(def).toMatchObject({
      service: 'my-service',
      displayName: 'Requests Availability',
      description: 'Common SLO based on availability for HTTP request responses.',
      format: 'openslo/v1alpha',
      definesService: true,
      composite: false,
      budgetingMethod: 'Occurrences',
      window: { kind: 'rolling', duration: { count: 30, unit: 'd' } },
      alerting: {
        page: { disabled: true, labels: {}, annotations: {} },
        ticket: { disabled: true, labels: {}, annotations: {} },
      },
    });
    expect(def.objectives.map((o) => o.target)).toEqual([0.999]);
    const service = at(text, 'service: my-service');
    expect(def.serviceLocation).toMatchObject({
      line: service.line,
      column: service.column + 'service: '.length,
    });
    const indicator = (def.indicator as { indicator: unknown }).indicator;
    expect(indicator).toMatchObject({
      kind: 'ratio',
      good: {
        type: 'prometheus',
        spec: {
          query:
            'sum(rate(http_request_duration_seconds_count{job="myservice",code!~"(5..|429)"}[{{.window}}]))',
        },
      },
      total: {
        type: 'prometheus',
        spec: { query: 'sum(rate(http_request_duration_seconds_count{job="myservice"}[{{.window}}]))' },
      },
    });
  });
});

describe('OpenSLO v1alpha conversion', () => {
  it('accepts the base spec used below', () => {
    const result = convert(BASE);
    expect(result.diagnostics).toEqual([]);
    const def = result.slos[0]!;
    expect(def.window).toEqual({ kind: 'rolling', duration: { count: 28, unit: 'd' } });
    expect(def.objectives[0]).toMatchObject({
      key: 'fast-and-fine',
      displayName: 'Fast and fine',
      target: 0.995,
    });
    expect(def.displayName).toBe('Fast and fine');
    expect(def.shinrai.owner).toBe('payments');
  });

  it('makes one SLO per objective, numbered as Sloth numbers them', () => {
    const text = BASE.replace(
      '      target: 0.995\n',
      `      target: 0.995
    - ratioMetrics:
        good: {source: prometheus, queryType: promql, query: "sum(rate(ok[{{.window}}]))"}
        total: {source: prometheus, queryType: promql, query: "sum(rate(all[{{.window}}]))"}
      target: 0.9
`,
    );
    const result = convert(text);
    expect(result.errors).toEqual([]);
    expect(result.slos.map((s: PendingSlo) => [s.id, s.name, s.objectives[0]!.target])).toEqual([
      ['shop-checkout-0', 'checkout-0', 0.995],
      ['shop-checkout-1', 'checkout-1', 0.9],
    ]);
    expect(result.slos[1]!.displayName).toBe('Checkout');
  });

  it('reads a Service object', () => {
    const text = `apiVersion: openslo/v1alpha
kind: Service
metadata:
  name: shop
  displayName: Shop
spec:
  description: The web shop
`;
    const result = convert(text);
    expect(result.diagnostics).toEqual([]);
    expect(result.services).toMatchObject([
      { name: 'shop', displayName: 'Shop', description: 'The web shop', format: 'openslo/v1alpha' },
    ]);
    expect(
      convert('apiVersion: openslo/v1alpha\nkind: Service\nmetadata:\n  name: shop\n').services,
    ).toHaveLength(1);
  });

  it('reads a calendar window with its time zone', () => {
    const text = BASE.replace(
      '    - count: 28\n      unit: Day\n      isRolling: true\n',
      '    - count: 1\n      unit: Month\n      calendar:\n        startTime: 2024-01-01 00:00:00\n        timeZone: Asia/Tokyo\n',
    );
    const result = convert(text);
    expect(result.diagnostics).toEqual([]);
    expect(result.slos[0]!.window).toEqual({
      kind: 'calendar',
      duration: { count: 1, unit: 'M' },
      startTime: '2024-01-01 00:00:00',
      timeZone: 'Asia/Tokyo',
    });
  });

  it('reads the unit case-insensitively like Sloth, and seconds as minutes', () => {
    expect(convert(BASE.replace('unit: Day', 'unit: day')).slos[0]!.window).toEqual({
      kind: 'rolling',
      duration: { count: 28, unit: 'd' },
    });
    expect(
      convert(BASE.replace('count: 28\n      unit: Day', 'count: 3600\n      unit: Second')).slos[0]!.window,
    ).toEqual({ kind: 'rolling', duration: { count: 60, unit: 'm' } });
  });

  it('warns about a rolling month and uses 30 days', () => {
    const text = BASE.replace('count: 28\n      unit: Day', 'count: 1\n      unit: Month');
    const result = convert(text);
    expect(result.errors).toEqual([]);
    expectDiagnostic(result.warnings, 'openslo-v1alpha/rolling-calendar-unit', at(text, 'Month'), 'warning');
    expect(result.slos[0]!.window).toEqual({ kind: 'rolling', duration: { count: 30, unit: 'd' } });
  });

  it('defaults to Sloth’s 30 days when there is no time window', () => {
    const text = BASE.replace(/ {2}timeWindows:[\s\S]*$/, '');
    const result = convert(text);
    expect(result.diagnostics).toEqual([]);
    expect(result.slos[0]!.window).toEqual({ kind: 'rolling', duration: { count: 30, unit: 'd' } });
  });
});

describe('OpenSLO v1alpha validation', () => {
  it('rejects a target that is not a fraction', () => {
    const text = BASE.replace('target: 0.995', 'target: 99.5');
    expectDiagnostic(convert(text).errors, 'openslo-v1alpha/target-range', at(text, '99.5'));
  });

  it('rejects sources and query types other than Prometheus', () => {
    const text = BASE.replace('source: prometheus', 'source: datadog').replace(
      'queryType: promql',
      'queryType: sql',
    );
    const result = convert(text);
    expectDiagnostic(result.errors, 'openslo-v1alpha/source', at(text, 'datadog'));
    expectDiagnostic(result.errors, 'openslo-v1alpha/query-type', at(text, 'sql'));
    expect(result.slos).toEqual([]);
  });

  it('rejects an objective without ratioMetrics, and threshold indicators', () => {
    const text = BASE.replace(
      / {6}ratioMetrics:[\s\S]*?(?= {6}target)/,
      '      op: lte\n      value: 250\n',
    ).replace(
      '  objectives:\n',
      '  indicator:\n    thresholdMetric: {source: prometheus, queryType: promql, query: latency}\n  objectives:\n',
    );
    const result = convert(text);
    expectDiagnostic(result.errors, 'openslo-v1alpha/ratio-only', at(text, 'displayName: Fast'));
    expectDiagnostic(result.errors, 'openslo-v1alpha/ratio-only', at(text, 'indicator:'));
  });

  it('rejects two time windows', () => {
    const text = `${BASE}    - count: 7\n      unit: Day\n`;
    expectDiagnostic(convert(text).errors, 'openslo-v1alpha/time-window-count', at(text, 'count: 7'));
  });

  it('suggests the unit for a misspelt one', () => {
    const text = BASE.replace('unit: Day', 'unit: Days');
    const d = expectDiagnostic(convert(text).errors, 'openslo-v1alpha/time-window-unit', at(text, 'Days'));
    expect(d.hint).toBe('did you mean "Day"?');
  });

  it('rejects an unknown time zone and a rolling calendar', () => {
    const text = BASE.replace(
      '      isRolling: true\n',
      '      isRolling: true\n      calendar:\n        startTime: 2024-01-01 00:00:00\n        timeZone: Mars/Olympus\n',
    );
    const result = convert(text);
    expectDiagnostic(result.errors, 'openslo-v1alpha/time-zone', at(text, 'Mars/Olympus'));
    expectDiagnostic(result.errors, 'openslo-v1alpha/time-window', at(text, 'calendar:'));
  });

  it('names an unknown field with a did-you-mean hint', () => {
    const text = BASE.replace('target: 0.995', 'targt: 0.995');
    const result = convert(text);
    const d = expectDiagnostic(result.errors, 'spec/unknown-field', at(text, 'targt'));
    expect(d.hint).toBe('did you mean "target"?');
    expect(result.errors.map((e) => e.rule)).toContain('spec/required');
  });

  it('rejects names that cannot become Sloth label values', () => {
    const text = BASE.replace('name: checkout', 'name: "check out"');
    expectDiagnostic(convert(text).errors, 'openslo-v1alpha/name', at(text, '"check out"'));
  });

  it('warns about what Sloth and Shinrai ignore', () => {
    const text = BASE.replace('budgetingMethod: Occurrences', 'budgetingMethod: Timeslices').replace(
      '      target: 0.995\n',
      '      target: 0.995\n      op: gte\n',
    );
    const result = convert(text);
    expect(result.errors).toEqual([]);
    expectDiagnostic(result.warnings, 'openslo-v1alpha/budgeting-method', at(text, 'Timeslices'), 'warning');
    expectDiagnostic(result.warnings, 'openslo-v1alpha/ignored-field', at(text, 'op: gte'), 'warning');
    expect(result.slos[0]!.budgetingMethod).toBe('Occurrences');
  });

  it('warns when a query does not use {{.window}}', () => {
    const text = BASE.replace('[{{.window}}]))\n        total', '[5m]))\n        total');
    expectDiagnostic(
      convert(text).warnings,
      'openslo-v1alpha/window-template',
      at(text, 'sum(rate(http_requests_total{code'),
      'warning',
    );
  });

  it('never throws on mutations, and every failure is a located diagnostic', () => {
    const base = parse(BASE) as Record<string, unknown>;
    const paths = collectPaths(base);
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            pick: fc.nat(),
            value: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant(undefined)),
          }),
          {
            minLength: 1,
            maxLength: 3,
          },
        ),
        (edits) => {
          const value = structuredClone(base);
          for (const e of edits) setAt(value, paths[e.pick % paths.length]!, e.value);
          const text = stringify(value);
          const result = convert(text);
          for (const d of result.diagnostics) {
            expect(d.line).toBeGreaterThanOrEqual(1);
            expect(d.column).toBeGreaterThanOrEqual(1);
          }
          if (result.slos.length === 0) expect(result.errors.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 300 },
    );
  });
});

function collectPaths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (value === null || typeof value !== 'object') return [prefix];
  return [
    prefix,
    ...Object.entries(value).flatMap(([key, child]) =>
      collectPaths(child, [...prefix, Array.isArray(value) ? Number(key) : key]),
    ),
  ];
}

function setAt(root: Record<string, unknown>, path: (string | number)[], value: unknown): void {
  if (path.length === 0) return;
  let node: unknown = root;
  for (const segment of path.slice(0, -1)) {
    if (node === null || typeof node !== 'object') return;
    node = (node as Record<string | number, unknown>)[segment];
  }
  if (node === null || typeof node !== 'object') return;
  const last = path[path.length - 1]!;
  if (value === undefined) delete (node as Record<string | number, unknown>)[last];
  else (node as Record<string | number, unknown>)[last] = value;
}
