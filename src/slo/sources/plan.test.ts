import { describe, expect, it } from 'vitest';
import { loadSpecText } from '../spec/load.js';
import { DEFAULT_SOURCE, planPulls } from './plan.js';
import { minuteQuery } from './prometheus/query.js';
import { SOURCES } from './registry.js';

const OPENSLO = `
apiVersion: openslo/v1
kind: DataSource
metadata: { name: prom }
spec:
  type: Prometheus
  connectionDetails:
    - url: http://prom.internal:9090
---
apiVersion: openslo/v1
kind: SLO
metadata: { name: checkout-availability }
spec:
  service: shop
  budgetingMethod: Occurrences
  timeWindow: [{ duration: 28d, isRolling: true }]
  indicator:
    metadata: { name: checkout-requests }
    spec:
      ratioMetric:
        counter: true
        good: { metricSource: { metricSourceRef: prom, spec: { query: 'http_requests_total{job="checkout",code!~"5.."}' } } }
        total: { metricSource: { metricSourceRef: prom, spec: { query: 'http_requests_total{job="checkout"}' } } }
  objectives: [{ target: 0.999 }]
---
apiVersion: openslo/v1
kind: SLI
metadata: { name: search-p99 }
spec:
  thresholdMetric:
    metricSource:
      metricSourceRef: prom
      spec: { query: 'histogram_quantile(0.99, sum by (le) (rate(latency_bucket[{{ .window }}])))' }
---
apiVersion: openslo/v1
kind: SLO
metadata: { name: search-latency }
spec:
  service: shop
  budgetingMethod: Timeslices
  timeWindow: [{ duration: 7d, isRolling: true }]
  indicatorRef: search-p99
  objectives:
    - { op: lt, value: 0.3, target: 0.99, timeSliceTarget: 0.9, timeSliceWindow: 1m }
---
apiVersion: openslo/v1
kind: SLO
metadata: { name: search-latency-ok }
spec:
  service: shop
  budgetingMethod: Occurrences
  timeWindow: [{ duration: 28d, isRolling: true }]
  indicatorRef: search-p99
  objectives:
    - { op: lte, value: 1, target: 0.999 }
---
apiVersion: openslo/v1
kind: SLO
metadata: { name: pushed }
spec:
  service: shop
  budgetingMethod: Occurrences
  timeWindow: [{ duration: 28d, isRolling: true }]
  indicator:
    metadata: { name: pushed-sli }
    spec:
      ratioMetric:
        good: { metricSource: { type: shinrai, spec: {} } }
        total: { metricSource: { type: shinrai, spec: {} } }
  objectives: [{ target: 0.99 }]
`;

const SLOTH = `
version: prometheus/v1
service: myservice
slos:
  - name: requests-availability
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(http_request_duration_seconds_count{job="myservice",code=~"(5..|429)"}[{{.window}}]))
        total_query: sum(rate(http_request_duration_seconds_count{job="myservice"}[{{.window}}]))
    alerting: { page_alert: { disable: true }, ticket_alert: { disable: true } }
`;

const catalogOf = (text: string) => {
  const loaded = loadSpecText('specs.yaml', text);
  expect(loaded.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return loaded.catalog;
};

describe('minuteQuery', () => {
  it('fills {{.window}} with one minute, wraps counters in increase, keeps other queries', () => {
    expect(minuteQuery('sum(rate(x[{{.window}}])) / sum(rate(y[{{ .window }}]))', undefined)).toBe(
      'sum(rate(x[1m])) / sum(rate(y[1m]))',
    );
    expect(minuteQuery(' http_requests_total{job="a"} ', true)).toBe(
      'sum(increase(http_requests_total{job="a"}[1m]))',
    );
    expect(minuteQuery('sum(increase(x[1m]))', false)).toBe('sum(increase(x[1m]))');
  });
});

describe('planPulls', () => {
  it('pulls the SLIs whose metric sources are Prometheus, with one stream per threshold', () => {
    const plan = planPulls(catalogOf(OPENSLO), SOURCES, { defaultUrl: false });
    expect(plan.problems).toEqual([]);
    expect([...plan.sources.keys()]).toEqual(['prom']);
    expect(plan.slis.map((s) => [s.sli, s.source, s.queries, s.streams.map((x) => x.storageKey)])).toEqual([
      [
        'checkout-requests',
        'prom',
        {
          kind: 'ratio',
          good: 'sum(increase(http_requests_total{job="checkout",code!~"5.."}[1m]))',
          total: 'sum(increase(http_requests_total{job="checkout"}[1m]))',
        },
        ['checkout-requests'],
      ],
      [
        'search-p99',
        'prom',
        { kind: 'threshold', metric: 'histogram_quantile(0.99, sum by (le) (rate(latency_bucket[1m])))' },
        ['search-p99:lt:0.3', 'search-p99:lte:1'],
      ],
    ]);
    expect(plan.slis[0]!.specs).toHaveLength(1);
    expect(plan.slis[1]!.specs).toHaveLength(2);
  });

  it('reads Sloth specs from the default Prometheus, and says why when there is none', () => {
    const catalog = catalogOf(SLOTH);
    const without = planPulls(catalog, SOURCES, { defaultUrl: false });
    expect(without.slis).toEqual([]);
    expect(without.problems[0]!.message).toContain('set prometheus.url');
    const plan = planPulls(catalog, SOURCES, { defaultUrl: true });
    expect(plan.slis.map((s) => [s.sli, s.source, s.queries])).toEqual([
      [
        'myservice-requests-availability',
        DEFAULT_SOURCE,
        {
          kind: 'ratio',
          bad: 'sum(rate(http_request_duration_seconds_count{job="myservice",code=~"(5..|429)"}[1m]))',
          total: 'sum(rate(http_request_duration_seconds_count{job="myservice"}[1m]))',
        },
      ],
    ]);
  });

  it('reports a Prometheus DataSource without a usable URL at its connectionDetails', () => {
    const text =
      'apiVersion: openslo/v1\nkind: DataSource\nmetadata: { name: p }\nspec:\n  type: Prometheus\n  connectionDetails:\n    - url: prom:9090\n';
    const loaded = loadSpecText('ds.yaml', text);
    expect(loaded.diagnostics).toMatchObject([
      { file: 'ds.yaml', line: 7, column: 5, rule: 'prometheus/connection', severity: 'error' },
    ]);
    expect(loaded.catalog.dataSources).toEqual([]);
  });
});

describe('planPulls and uploaded DataSources', () => {
  it('never plans an inline connection from an upload, even if the loader let one through', () => {
    const { catalog } = loadSpecText('specs/x.yaml', OPENSLO);
    const uploaded = {
      ...catalog,
      dataSources: catalog.dataSources.map((d) => ({
        ...d,
        location: { ...d.location, file: 'api:x.yaml' },
      })),
    };
    expect(planPulls(catalog, SOURCES, { defaultUrl: false }).slis.length).toBeGreaterThan(0);
    const plan = planPulls(uploaded, SOURCES, { defaultUrl: false });
    expect(plan.slis).toEqual([]);
    expect(plan.problems[0]?.message).toContain('may only name a connection configured on the server');
  });
});
