/** The OTLP spec checks `shinrai validate` reports, each with its rule at the spec's file:line:column. */
import { describe, expect, it } from 'vitest';
import { at, expectDiagnostic } from '../../../../test/support/diagnostics.js';
import { loadSpecText } from '../../spec/load.js';
import { otlpPlan } from './plan.js';

const HEAD = `apiVersion: openslo/v1
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
kind: DataSource
metadata: {name: prom}
spec: {type: Prometheus, connectionDetails: {url: http://127.0.0.1:9090}}
---
`;

function slo(name: string, indicator: string, objective = '{target: 0.99}'): string {
  return `apiVersion: openslo/v1
kind: SLO
metadata: {name: ${name}}
spec:
  service: checkout
  indicator:
    metadata: {name: ${name}-sli}
    spec:
${indicator}
  timeWindow: [{duration: 28d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [${objective}]
`;
}

const ratio = (good: string, total: string) => `      ratioMetric:
        counter: true
        good:
          metricSource:
            metricSourceRef: ${good.split(' ')[0]}
            spec: ${good.split(' ').slice(1).join(' ')}
        total:
          metricSource:
            metricSourceRef: ${total.split(' ')[0]}
            spec: ${total.split(' ').slice(1).join(' ')}`;

function validate(text: string) {
  const loaded = loadSpecText('specs.yaml', text);
  for (const d of loaded.diagnostics) expect(d.file).toBe('specs.yaml');
  return loaded.diagnostics;
}

describe('validate: OpenTelemetry metric sources', () => {
  it('reports a good/total that mixes OpenTelemetry and Prometheus at the SLI, and plans nothing for it', () => {
    const text =
      HEAD +
      slo(
        'mixed',
        ratio(
          'otel {metric: http.server.request.duration}',
          'prom {query: "sum(rate(http_requests_total[1m]))"}',
        ),
      );
    const d = expectDiagnostic(validate(text), 'otlp/mixed-sources', at(text, 'mixed-sli}'));
    expect(d.message).toBe('SLI "mixed-sli" mixes OpenTelemetry and other metric sources');
    expect(otlpPlan(loadSpecText('specs.yaml', text).catalog).streams.size).toBe(0);
  });

  it.each([
    [
      'a range key that is not gt/gte/lt/lte',
      '{http.response.status_code: {below: 500}}',
      /\{below\b|"below"/,
    ],
    ['an empty list', '{http.route: []}', /a list holds one or more/],
    ['a null filter', '{http.route: null}', /a filter is a value, a list of values, or a range/],
    [
      'a range bound that is not a number',
      '{http.response.status_code: {lt: "500"}}',
      /a range is a map of gt, gte, lt, lte to numbers/,
    ],
  ])('reports %s as otlp/spec at the metric source', (_what, attributes, message) => {
    const good = `otel {metric: http.server.request.duration, attributes: ${attributes}}`;
    const text = HEAD + slo('filters', ratio(good, 'otel {metric: http.server.request.duration}'));
    const d = expectDiagnostic(validate(text), 'otlp/spec', at(text, 'metricSourceRef: otel'));
    expect(d.message).toMatch(message);
  });

  it('reports an unknown field and a missing metric name, each at its own metric source', () => {
    const text =
      HEAD +
      slo(
        'fields',
        ratio('otel {metric: http.server.request.duration, labels: {a: b}}', 'otel {attributes: {a: b}}'),
      );
    const diagnostics = validate(text);
    expect(expectDiagnostic(diagnostics, 'otlp/spec', at(text, 'metricSourceRef: otel', 1)).message).toMatch(
      /unknown field "labels"/,
    );
    expect(expectDiagnostic(diagnostics, 'otlp/spec', at(text, 'metricSourceRef: otel', 2)).message).toMatch(
      /`metric` .* is required/,
    );
  });

  it('warns where a threshold is snapped to a bucket boundary, and errs where none is below it', () => {
    const indicator = `      thresholdMetric:
        metricSource:
          metricSourceRef: otel
          spec: {metric: http.server.request.duration, boundaries: [0.1, 0.25, 0.5]}`;
    const text =
      HEAD +
      slo('snapped', indicator, '{op: lte, value: 0.3, target: 0.99}') +
      '---\n' +
      slo('below', indicator, '{op: lte, value: 0.05, target: 0.99}');
    const diagnostics = validate(text);
    const snapped = expectDiagnostic(
      diagnostics,
      'otlp/threshold-snapped',
      at(text, '{op: lte, value: 0.3'),
      'warning',
    );
    expect(snapped.message).toContain('the boundary 0.25 is used');
    const none = expectDiagnostic(diagnostics, 'otlp/threshold', at(text, '{op: lte, value: 0.05'));
    expect(none.message).toContain('has no bucket boundary to snap to');
  });

  it('says nothing about a well-formed OpenTelemetry SLI', () => {
    const text =
      HEAD +
      slo(
        'fine',
        ratio(
          'otel {metric: http.server.request.duration, resource: {service.name: checkout}, attributes: {http.response.status_code: {lt: 500}, http.route: [/cart, /pay]}}',
          'otel {metric: http.server.request.duration, resource: {service.name: checkout}}',
        ),
      );
    expect(validate(text).filter((d) => d.rule.startsWith('otlp/'))).toEqual([]);
  });
});
