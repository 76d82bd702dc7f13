import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { at, expectDiagnostic } from '../../../test/support/diagnostics.js';
import { sharedFixture } from '../../../test/support/fixtures.js';
import { Checker } from './check.js';
import type { Diagnostic } from './diagnostics.js';
import { parseSpecText } from './documents.js';
import type { AlertWindowsDefinition, ParsedObject, PendingSlo } from './parsed.js';
import {
  convertSlothAlertWindows,
  convertSlothKubernetes,
  convertSlothPrometheusV1,
  parsePrometheusDuration,
} from './sloth.js';

/** Converts every object of a Sloth file the way load.ts dispatches them. */
function convert(text: string, file = 'spec.yml') {
  const parsed = parseSpecText(file, text);
  const out: ParsedObject[] = [];
  const diagnostics: Diagnostic[] = [...parsed.diagnostics];
  for (const object of parsed.objects) {
    const checker = new Checker(object);
    const value = object.value as Record<string, unknown>;
    if (value.kind === 'AlertWindows') out.push(...convertSlothAlertWindows(object, checker));
    else if (value.kind === 'PrometheusServiceLevel') out.push(...convertSlothKubernetes(object, checker));
    else out.push(...convertSlothPrometheusV1(object, checker));
    diagnostics.push(...checker.diagnostics);
  }
  return {
    out,
    slos: out.flatMap((p) => (p.kind === 'SLO' ? [p.def] : [])),
    services: out.flatMap((p) => (p.kind === 'Service' ? [p.def] : [])),
    windows: out.flatMap((p) => (p.kind === 'AlertWindows' ? [p.def] : [])),
    diagnostics,
    errors: diagnostics.filter((d) => d.severity === 'error'),
    warnings: diagnostics.filter((d) => d.severity === 'warning'),
  };
}

/** Position of the value written right after the first `prefix` (e.g. "objective: "). */
function atValue(text: string, prefix: string): { line: number; column: number } {
  const where = at(text, prefix);
  return { line: where.line, column: where.column + prefix.length };
}

/** The `sloth_id` labels of the rules Sloth generated for a fixture. */
function slothIds(outFile: string): string[] {
  const ids = new Set<string>();
  const text = readFileSync(sharedFixture(`sloth/out/${outFile}`), 'utf8');
  for (const doc of text.split(/^---$/m)) {
    const value = parse(doc) as { groups?: { rules: { labels?: Record<string, string> }[] }[] } | null;
    for (const group of value?.groups ?? [])
      for (const rule of group.rules) if (rule.labels?.sloth_id) ids.add(rule.labels.sloth_id);
  }
  return [...ids].sort();
}

function fixture(name: string): string {
  return readFileSync(sharedFixture(`sloth/in/${name}`), 'utf8');
}

function slo(result: { slos: PendingSlo[] }, id: string): PendingSlo {
  const found = result.slos.find((s) => s.id === id);
  expect(found, `SLO ${id} among ${result.slos.map((s) => s.id).join(', ')}`).toBeDefined();
  return found!;
}

const BASE = `version: "prometheus/v1"
service: "myservice"
labels:
  owner: "myteam"
  tier: "2"
slos:
  - name: "requests-availability"
    objective: 99.9
    description: "Availability of HTTP responses."
    labels:
      tier: "1"
    sli:
      events:
        error_query: sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total[{{.window}}]))
    alerting:
      name: MyServiceHighErrorRate
      labels:
        category: availability
      annotations:
        runbook: https://runbooks.example.com/myservice
      page_alert:
        labels:
          severity: critical
      ticket_alert:
        labels:
          severity: warning
`;

describe('Sloth fixtures (slok/sloth v0.16 examples)', () => {
  const files = readdirSync(sharedFixture('sloth/in')).sort();
  const slothFiles = files.filter((f) => !f.startsWith('openslo-'));

  it('has only the OpenSLO v1alpha example outside prometheus/v1 (covered in openslo-v1alpha.test.ts)', () => {
    expect(files.filter((f) => f.startsWith('openslo-'))).toEqual(['openslo-getting-started.yml']);
    expect(slothFiles.length).toBeGreaterThanOrEqual(6);
  });

  it.each(slothFiles)('converts %s without any diagnostic, with the ids Sloth generated', (file) => {
    const result = convert(fixture(file), file);
    expect(result.diagnostics).toEqual([]);
    expect(result.slos.map((s) => s.id).sort()).toEqual(slothIds(file));
    for (const def of result.slos) {
      expect(def.format).toBe('sloth/prometheus/v1');
      expect(def.definesService).toBe(true);
      expect(def.window).toEqual({ kind: 'rolling', duration: { count: 30, unit: 'd' } });
      expect(def.budgetingMethod).toBe('Occurrences');
      expect(def.objectives).toHaveLength(1);
      expect(result.services.map((s) => s.name)).toContain(def.service);
    }
  });

  it('turns the objective percentage into a target fraction without float noise', () => {
    const targets = (file: string) => convert(fixture(file)).slos.map((s) => [s.id, s.objectives[0]!.target]);
    expect(targets('kubernetes-apiserver.yml')).toEqual([
      ['k8s-apiserver-requests-availability', 0.999],
      ['k8s-apiserver-requests-latency', 0.99],
    ]);
    expect(targets('home-wifi.yml')).toEqual([
      ['home-wifi-good-wifi-client-satisfaction', 0.95],
      ['home-wifi-risk-wifi-client-satisfaction', 0.999],
    ]);
    expect(targets('no-alerts.yml')).toEqual([['myapp-http-availability', 0.9999]]);
  });

  it('maps events to a ratio indicator with bad = error_query and total = total_query', () => {
    const def = slo(convert(fixture('getting-started.yml')), 'myservice-requests-availability');
    const indicator = def.indicator as { indicator: { kind: string; bad?: unknown; total: unknown } };
    expect(indicator.indicator).toMatchObject({
      kind: 'ratio',
      bad: {
        type: 'prometheus',
        spec: {
          query:
            'sum(rate(http_request_duration_seconds_count{job="myservice",code=~"(5..|429)"}[{{.window}}]))',
        },
        location: { line: 14, column: 22 },
      },
      total: {
        type: 'prometheus',
        spec: { query: 'sum(rate(http_request_duration_seconds_count{job="myservice"}[{{.window}}]))' },
      },
    });
    expect(def.location).toMatchObject({ line: 9, column: 11 });
    expect(def.objectives[0]!.location).toMatchObject({ line: 10, column: 16 });
  });

  it('merges service labels with SLO labels as lists, the SLO winning', () => {
    const def = slo(convert(fixture('kubernetes-apiserver.yml')), 'k8s-apiserver-requests-latency');
    expect(def.labels).toEqual({ cluster: ['valhalla'], component: ['kubernetes'], category: ['latency'] });
    const overridden = slo(convert(BASE), 'myservice-requests-availability');
    expect(overridden.labels).toEqual({ owner: ['myteam'], tier: ['1'] });
  });

  it('keeps page and ticket labels, annotations and the alert name', () => {
    const def = slo(convert(fixture('getting-started.yml')), 'myservice-requests-availability');
    expect(def.alerting).toEqual({
      name: 'MyServiceHighErrorRate',
      labels: { category: 'availability' },
      annotations: { summary: "High error rate on 'myservice' requests responses" },
      page: { disabled: false, labels: { severity: 'pageteam', routing_key: 'myteam' }, annotations: {} },
      ticket: {
        disabled: false,
        labels: { severity: 'slack', slack_channel: '#alerts-myteam' },
        annotations: {},
      },
    });
    expect(def.shinrai.owner).toBe('myteam');
  });

  it('reads disabled tiers from no-alerts.yml and needs no alert name then', () => {
    const def = slo(convert(fixture('no-alerts.yml')), 'myapp-http-availability');
    expect(def.alerting).toEqual({
      name: undefined,
      labels: {},
      annotations: {},
      page: { disabled: true, labels: {}, annotations: {} },
      ticket: { disabled: true, labels: {}, annotations: {} },
    });
  });

  it('takes the runbook from the alert annotations', () => {
    const def = slo(convert(fixture('kubernetes-apiserver.yml')), 'k8s-apiserver-requests-availability');
    expect(def.shinrai.runbookUrl).toBe(
      'https://github.com/kubernetes-monitoring/kubernetes-mixin/tree/master/runbook.md#alert-name-kubeapierrorshigh',
    );
  });

  it('maps a raw SLI to a failure ratio (raw-home-wifi.yml)', () => {
    const def = slo(convert(fixture('raw-home-wifi.yml')), 'home-wifi-wifi-client-satisfaction');
    const indicator = (
      def.indicator as { indicator: { kind: string; rawType?: string; raw?: { spec: { query: string } } } }
    ).indicator;
    expect(indicator.kind).toBe('raw');
    expect(indicator.rawType).toBe('failure');
    expect(indicator.raw!.spec.query).toContain(
      'sum(sum_over_time(unifipoller_client_satisfaction_ratio[{{.window}}]))',
    );
    expect(def.objectives[0]!.target).toBe(0.95);
  });

  it('reads every document of multifile.yml, each with its own service', () => {
    const result = convert(fixture('multifile.yml'));
    expect(result.services.map((s) => [s.name, s.labels.owner, s.location.line])).toEqual([
      ['myservice', ['myteam'], 3],
      ['myservice2', ['myteam2'], 35],
    ]);
    expect(result.slos.map((s) => [s.id, s.objectives[0]!.target, s.location.line])).toEqual([
      ['myservice-requests-availability', 0.999, 10],
      ['myservice2-requests-availability', 0.9999, 42],
    ]);
  });

  it('reads the 7d AlertWindows catalog in milliseconds', () => {
    const text = readFileSync(sharedFixture('sloth/windows/7d.yaml'), 'utf8');
    const result = convert(text, '7d.yaml');
    expect(result.diagnostics).toEqual([]);
    const hour = 3_600_000;
    expect(result.windows).toEqual<AlertWindowsDefinition[]>([
      {
        name: '7d',
        periodMs: 7 * 24 * hour,
        page: {
          quick: { errorBudgetPercent: 8, shortWindowMs: hour / 12, longWindowMs: hour },
          slow: { errorBudgetPercent: 12.5, shortWindowMs: hour / 2, longWindowMs: 6 * hour },
        },
        ticket: {
          quick: { errorBudgetPercent: 20, shortWindowMs: 2 * hour, longWindowMs: 24 * hour },
          slow: { errorBudgetPercent: 42, shortWindowMs: 6 * hour, longWindowMs: 72 * hour },
        },
        location: { file: '7d.yaml', line: 4, column: 14 },
      },
    ]);
  });
});

describe('Sloth objective', () => {
  it('gives a target equal to the decimal fraction for any percentage with up to 4 decimals', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 999_999 }), (n) => {
        const objective = n / 10_000;
        const result = convert(BASE.replace('objective: 99.9', `objective: ${objective}`));
        expect(result.errors).toEqual([]);
        expect(result.slos[0]!.objectives[0]!.target).toBe(Number((n / 1_000_000).toFixed(6)));
      }),
      { numRuns: 200 },
    );
  });
});

describe('Sloth validation', () => {
  it('accepts the base spec used below', () => {
    expect(convert(BASE).diagnostics).toEqual([]);
  });

  it.each([
    ['120', 'objective: 120'],
    ['100', 'objective: 100'],
    ['0', 'objective: 0'],
    ['-5', 'objective: -5'],
  ])('rejects objective %s at its value (sloth/objective-range)', (value, line) => {
    const text = BASE.replace('objective: 99.9', line);
    const result = convert(text);
    const d = expectDiagnostic(result.errors, 'sloth/objective-range', atValue(text, 'objective: '));
    expect(d.message).toContain(value);
    expect(result.slos).toEqual([]);
  });

  it('explains that 100% leaves no error budget', () => {
    const result = convert(BASE.replace('objective: 99.9', 'objective: 100'));
    expect(result.errors[0]!.message).toMatch(/no error budget/);
  });

  it('warns when the objective looks like a fraction', () => {
    const text = BASE.replace('objective: 99.9', 'objective: 0.999');
    expectDiagnostic(convert(text).warnings, 'sloth/objective-percent', at(text, '0.999'), 'warning');
  });

  it('rejects an objective written as text', () => {
    const text = BASE.replace('objective: 99.9', 'objective: "99.9"');
    const d = expectDiagnostic(convert(text).errors, 'sloth/type', at(text, '"99.9"'));
    expect(d.message).toBe('slos[0].objective must be a number, not the text "99.9"');
  });

  it('rejects an SLI with both events and raw at the second one (sloth/sli-one-of)', () => {
    const text = BASE.replace(
      '      events:\n',
      '      events:\n        error_query: x[{{.window}}]\n        total_query: y[{{.window}}]\n      raw:\n',
    ).replace(
      / {8}error_query: sum.*\n {8}total_query: sum.*\n/,
      '        error_ratio_query: z[{{.window}}]\n',
    );
    const result = convert(text);
    const d = expectDiagnostic(result.errors, 'sloth/sli-one-of', at(text, 'raw:'));
    expect(d.message).toBe('sli has both `events` and `raw`; write exactly one');
  });

  it('rejects an SLI with no type at the sli key', () => {
    const text = BASE.replace(/ {6}events:\n.*\n.*\n/, '      {}\n').replace(
      '    sli:\n      {}',
      '    sli: {}',
    );
    expectDiagnostic(convert(text).errors, 'sloth/sli-one-of', at(text, 'sli:'));
  });

  it('reports a missing total_query at the events block (sloth/required)', () => {
    const text = BASE.replace(/ {8}total_query: .*\n/, '');
    const result = convert(text);
    const d = expectDiagnostic(result.errors, 'sloth/required', at(text, 'error_query:'));
    expect(d.message).toBe('slos[0].sli.events.total_query is required');
  });

  it('rejects identical error and total queries', () => {
    const text = BASE.replace(
      'total_query: sum(rate(http_requests_total[',
      'total_query: sum(rate(http_requests_total{code=~"5.."}[',
    );
    expectDiagnostic(convert(text).errors, 'sloth/sli-queries-equal', at(text, 'sum(rate', 2));
  });

  it('names an unknown field with a did-you-mean hint at its key', () => {
    const text = BASE.replace('objective: 99.9', 'objectve: 99.9');
    const result = convert(text);
    const d = expectDiagnostic(result.errors, 'sloth/unknown-field', at(text, 'objectve'));
    expect(d.hint).toBe('did you mean "objective"?');
    expect(result.errors.map((e) => e.rule)).toContain('sloth/required');
  });

  it('rejects an invalid Prometheus label name at its key (sloth/label-name)', () => {
    const text = BASE.replace('labels:\n      tier: "1"', 'labels:\n      __name__: "up"');
    const d = expectDiagnostic(convert(text).errors, 'sloth/label-name', at(text, '__name__'));
    expect(d.message).toMatch(/reserved/);
  });

  it('warns about label names only UTF-8-aware Prometheus accepts', () => {
    const text = BASE.replace('category: availability', 'app.kubernetes.io/team: availability');
    const result = convert(text);
    expect(result.errors).toEqual([]);
    const d = expectDiagnostic(
      result.warnings,
      'sloth/label-name-utf8',
      at(text, 'app.kubernetes.io/team'),
      'warning',
    );
    expect(d.hint).toContain('app_kubernetes_io_team');
  });

  it('rejects empty label values', () => {
    const text = BASE.replace('severity: warning', 'severity: ""');
    expectDiagnostic(convert(text).errors, 'sloth/label-value', at(text, '""'));
  });

  it('rejects an SLI plugin with a hint to expand it (sloth/plugin)', () => {
    const text = BASE.replace(
      /( {6})events:\n.*\n.*\n/,
      '$1plugin:\n        id: "sloth-common/kubernetes/apiserver/availability"\n        options:\n          filter: job="api"\n',
    );
    const result = convert(text);
    const d = expectDiagnostic(result.errors, 'sloth/plugin', at(text, 'plugin:'));
    expect(d.hint).toMatch(/events/);
    expect(result.errors.map((e) => e.rule)).not.toContain('sloth/sli-one-of');
  });

  it('requires alerting.name while a tier is enabled (sloth/alert-name)', () => {
    const text = BASE.replace('      name: MyServiceHighErrorRate\n', '');
    const d = expectDiagnostic(convert(text).errors, 'sloth/alert-name', at(text, 'alerting:'));
    expect(d.message).toBe('alerting.name is required while page_alert and ticket_alert alerts are enabled');
    const pageOnly = text.replace('      ticket_alert:\n', '      ticket_alert:\n        disable: true\n');
    expect(convert(pageOnly).errors.map((e) => e.message)).toEqual([
      'alerting.name is required while page_alert alerts are enabled',
    ]);
  });

  it('treats a missing alerting block as both tiers enabled, like Sloth', () => {
    const text = BASE.replace(/ {4}alerting:[\s\S]*$/, '');
    expectDiagnostic(convert(text).errors, 'sloth/alert-name', at(text, 'name: "requests-availability"'));
  });

  it('rejects SLO and service names Sloth rejects (sloth/name)', () => {
    const text = BASE.replace('name: "requests-availability"', 'name: "requests availability"').replace(
      'service: "myservice"',
      'service: "-svc"',
    );
    const result = convert(text);
    expectDiagnostic(result.errors, 'sloth/name', at(text, '"requests availability"'));
    expectDiagnostic(result.errors, 'sloth/name', at(text, '"-svc"'));
  });

  it('rejects another spec version', () => {
    const text = BASE.replace('"prometheus/v1"', '"prometheus/v2"');
    expectDiagnostic(convert(text).errors, 'sloth/version', at(text, '"prometheus/v2"'));
  });

  it('requires at least one SLO', () => {
    const text = 'version: "prometheus/v1"\nservice: "svc"\nslos: []\n';
    expectDiagnostic(convert(text).errors, 'sloth/required', at(text, '[]'));
  });

  it('rejects two SLOs with the same name in one service', () => {
    const second = BASE.slice(BASE.indexOf('  - name'));
    const text = BASE + second;
    const result = convert(text);
    expectDiagnostic(result.errors, 'sloth/duplicate-slo', at(text, '"requests-availability"', 2));
    expect(result.slos.map((s) => s.id)).toEqual(['myservice-requests-availability']);
  });

  it('warns when a query does not use {{.window}}', () => {
    const text = BASE.replace(
      'sum(rate(http_requests_total[{{.window}}]))',
      'sum(rate(http_requests_total[5m]))',
    );
    const result = convert(text);
    expect(result.errors).toEqual([]);
    expectDiagnostic(
      result.warnings,
      'sloth/window-template',
      at(text, 'sum(rate(http_requests_total[5m]))'),
      'warning',
    );
  });

  it('warns that SLO plugins are ignored', () => {
    const text = BASE.replace(
      '    sli:\n',
      '    plugins:\n      chain: [{id: "sloth.dev/core/debug/v1"}]\n    sli:\n',
    );
    const result = convert(text);
    expect(result.errors).toEqual([]);
    expectDiagnostic(result.warnings, 'sloth/ignored-field', at(text, 'plugins:'), 'warning');
  });

  it('reports every problem of a spec in one run and still converts the valid SLOs', () => {
    const bad = `  - name: "broken"
    objective: 120
    sli:
      plugin:
        id: p
    alertng: {}
`;
    const text = BASE + bad;
    const result = convert(text);
    expect(result.errors.map((e) => e.rule).sort()).toEqual([
      'sloth/alert-name',
      'sloth/objective-range',
      'sloth/plugin',
      'sloth/unknown-field',
    ]);
    expect(result.slos.map((s) => s.id)).toEqual(['myservice-requests-availability']);
  });
});

describe('Sloth Kubernetes CRD (PrometheusServiceLevel)', () => {
  const CRD = `apiVersion: sloth.slok.dev/v1
kind: PrometheusServiceLevel
metadata:
  name: sloth-slo-my-service
  namespace: monitoring
  annotations:
    shinrai.dev/journey: "checkout"
spec:
  service: "myservice"
  labels:
    owner: "myteam"
  slos:
    - name: "requests-availability"
      objective: 99.9
      sli:
        events:
          errorQuery: sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))
          totalQuery: sum(rate(http_requests_total[{{.window}}]))
      alerting:
        name: MyServiceHighErrorRate
        pageAlert:
          labels:
            severity: pageteam
        ticketAlert:
          disable: true
`;

  it('reads the camelCase CRD form with Sloth ids and the metadata annotations', () => {
    const result = convert(CRD);
    expect(result.diagnostics).toEqual([]);
    const def = slo(result, 'myservice-requests-availability');
    expect(def.format).toBe('sloth/kubernetes');
    expect(def.alerting?.page).toEqual({
      disabled: false,
      labels: { severity: 'pageteam' },
      annotations: {},
    });
    expect(def.alerting?.ticket.disabled).toBe(true);
    expect(def.shinrai).toMatchObject({ journey: 'checkout', owner: 'myteam' });
    expect(result.services.map((s) => [s.name, s.format])).toEqual([['myservice', 'sloth/kubernetes']]);
    expect(def.serviceLocation).toMatchObject(at(CRD, '"myservice"'));
  });

  it('suggests the camelCase key for a snake_case one', () => {
    const text = CRD.replace('totalQuery', 'total_query');
    const d = expectDiagnostic(convert(text).errors, 'sloth/unknown-field', at(text, 'total_query'));
    expect(d.hint).toBe('did you mean "totalQuery"?');
  });

  it('reports problems under spec at their place', () => {
    const text = CRD.replace('objective: 99.9', 'objective: 120');
    const d = expectDiagnostic(convert(text).errors, 'sloth/objective-range', at(text, '120'));
    expect(d.message).toContain('120');
  });
});

describe('Sloth AlertWindows', () => {
  const WINDOWS = readFileSync(sharedFixture('sloth/windows/7d.yaml'), 'utf8');

  it('rejects a zero budget percentage, a bad duration and a missing window', () => {
    const text = WINDOWS.replace('errorBudgetPercent: 8', 'errorBudgetPercent: 0')
      .replace('shortWindow: 30m', 'shortWindow: 30x')
      .replace(/ {4}slow:\n {6}errorBudgetPercent: 42\n.*\n.*\n?$/, '');
    const result = convert(text);
    expectDiagnostic(result.errors, 'sloth/error-budget-percent', atValue(text, 'errorBudgetPercent: '));
    expectDiagnostic(result.errors, 'sloth/duration', at(text, '30x'));
    expect(result.errors.map((e) => e.message)).toContain('spec.ticket.slow is required');
    expect(result.windows).toEqual([]);
  });

  it('warns when a short window is not shorter than its long window', () => {
    const text = WINDOWS.replace('shortWindow: 2h', 'shortWindow: 1d');
    const result = convert(text);
    expect(result.errors).toEqual([]);
    expectDiagnostic(result.warnings, 'sloth/window-order', at(text, '1d', 1), 'warning');
  });

  it.each([
    ['30d', 30 * 86_400_000],
    ['1h30m', 90 * 60_000],
    ['1y', 365 * 86_400_000],
    ['2w', 14 * 86_400_000],
    ['500ms', 500],
    ['0', 0],
  ])('parses the Prometheus duration %s', (text, ms) => {
    expect(parsePrometheusDuration(text)).toEqual({ ok: true, ms });
  });

  it.each(['', '1M', '1h1d', '1.5h', '-1d', 'd', '1 d'])('rejects %j as a Prometheus duration', (text) => {
    expect(parsePrometheusDuration(text).ok).toBe(false);
  });
});

describe('Sloth import under arbitrary input', () => {
  const base = parse(BASE) as unknown;
  const SLOTH_KEYS = [
    'version',
    'service',
    'labels',
    'slos',
    'name',
    'objective',
    'sli',
    'events',
    'raw',
    'plugin',
  ];
  const oddValue = fc.oneof(
    fc.jsonValue({ maxDepth: 2 }),
    fc.constantFrom(
      null,
      '',
      0,
      -1,
      100,
      120,
      0.999,
      'prometheus/v1',
      '{{.window}}',
      [],
      {},
      '__name__',
      'a',
    ),
  );
  const mutation = fc.record({
    pick: fc.nat(),
    op: fc.constantFrom('delete', 'replace', 'rename', 'add'),
    value: oddValue,
    key: fc.oneof(
      fc.string({ maxLength: 12 }),
      fc.constantFrom(...SLOTH_KEYS, 'error_ratio_query', 'page_alert'),
    ),
  });

  function check(text: string): void {
    const lineCount = text.split('\n').length;
    const result = convert(text);
    for (const d of result.diagnostics) {
      expect(d.line).toBeGreaterThanOrEqual(1);
      expect(d.line).toBeLessThanOrEqual(lineCount);
      expect(d.column).toBeGreaterThanOrEqual(1);
      expect(d.rule).toMatch(/^(sloth|yaml|spec|shinrai)\/[a-z0-9-]+$/);
      expect(d.message.length).toBeGreaterThan(0);
    }
    // Whatever did not convert must have been explained by an error.
    const items = parseSpecText('spec.yml', text).objects.reduce((n, o) => {
      const slos = (o.value as { slos?: unknown }).slos;
      return n + (Array.isArray(slos) ? slos.length : 1);
    }, 0);
    if (result.slos.length < items) expect(result.errors.length).toBeGreaterThan(0);
    for (const def of result.slos) {
      expect(def.objectives[0]!.target).toBeGreaterThan(0);
      expect(def.objectives[0]!.target).toBeLessThan(1);
      expect(def.id.startsWith(`${def.service}-`)).toBe(true);
    }
  }

  it('never throws on structural mutations, and every failure is a located diagnostic', () => {
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (mutations) => {
        const value = structuredClone(base);
        for (const m of mutations) mutate(value, m);
        check(stringify(value));
      }),
      { numRuns: 400 },
    );
  });

  it('never throws on text mutations of the YAML', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            offset: fc.nat(BASE.length),
            remove: fc.nat(6),
            insert: fc.oneof(
              fc.string({ maxLength: 6 }),
              fc.constantFrom(':', '- ', '\n  ', '{', '"', '\t', '#'),
            ),
          }),
          { minLength: 1, maxLength: 3 },
        ),
        (edits) => {
          let text = BASE;
          for (const e of edits) {
            const offset = Math.min(e.offset, text.length);
            text = text.slice(0, offset) + e.insert + text.slice(offset + e.remove);
          }
          check(text);
        },
      ),
      { numRuns: 400 },
    );
  });
});

type Mutation = { pick: number; op: string; value: unknown; key: string };

/** Applies one mutation to the node number `pick` (in depth-first order) of a parsed YAML value. */
function mutate(root: unknown, m: Mutation): void {
  const containers: (Record<string, unknown> | unknown[])[] = [];
  const walk = (node: unknown) => {
    if (node === null || typeof node !== 'object') return;
    containers.push(node as Record<string, unknown> | unknown[]);
    for (const child of Object.values(node)) walk(child);
  };
  walk(root);
  // Each insertion gets its own copy: inserting one generated object twice could nest it in itself.
  m = { ...m, value: structuredClone(m.value) };
  const target = containers[m.pick % containers.length]!;
  const keys = Object.keys(target);
  const key = keys[m.pick % Math.max(1, keys.length)];
  if (Array.isArray(target)) {
    const index = key === undefined ? 0 : Number(key);
    if (m.op === 'delete') target.splice(index, 1);
    else if (m.op === 'add') target.push(m.value);
    else target[index] = m.value;
    return;
  }
  if (m.op === 'add' || key === undefined) {
    Object.defineProperty(target, m.key, {
      value: m.value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
    return;
  }
  const current = target[key];
  delete target[key];
  if (m.op === 'replace') target[key] = m.value;
  if (m.op === 'rename')
    Object.defineProperty(target, m.key, {
      value: current,
      enumerable: true,
      writable: true,
      configurable: true,
    });
}
