import { describe, expect, it } from 'vitest';
import type { MetricSource } from '../../model.js';
import { minuteQuery, planPromQl } from './query.js';

const source = (query: string): MetricSource => ({
  spec: { query },
  location: { file: 'a.yaml', line: 1, column: 1 },
});

describe('planPromQl', () => {
  it.each([
    'http_requests_total',
    'http_requests_total{job="checkout"}',
    'http_requests_total{job="checkout",code!~"5.."}',
    '{__name__="http_requests_total", path="/a{b}"}',
    'http_requests_total{msg="say \\"hi\\" {x}"}',
    'ns:http_requests:total {job="a"}',
  ])('wraps the counter selector %s in increase(…[1m])', (query) => {
    expect(planPromQl(source(query), true)).toEqual({ query: `sum(increase(${query}[1m]))` });
  });

  it.each([
    'sum(http_requests{k8s_cluster="prod",component="web"})',
    'rate(http_requests_total[5m])',
    'http_requests_total{job="a"} / 2',
    'http_requests_total[5m]',
    'http_requests_total offset 5m',
  ])('refuses counter: true on %s, which is not a selector', (query) => {
    const planned = planPromQl(source(query), true);
    expect(planned).toMatchObject({
      problem: expect.stringContaining('counter: true needs a plain series selector'),
    });
  });

  it('uses {{.window}} queries and non-counter queries as written', () => {
    expect(planPromQl(source('sum(rate(x[{{ .window }}]))'), true)).toEqual({ query: 'sum(rate(x[1m]))' });
    expect(planPromQl(source('sum(rate(x[1m])) * 60'), false)).toEqual({ query: 'sum(rate(x[1m])) * 60' });
    expect(minuteQuery('a[{{.window}}] + b[{{.window}}]', false)).toBe('a[1m] + b[1m]');
  });

  it('names a missing query', () => {
    expect(planPromQl({ spec: {}, location: { file: 'a', line: 1, column: 1 } }, false)).toEqual({
      problem: 'a Prometheus metric source needs spec.query (PromQL)',
    });
    expect(
      planPromQl({ spec: { promql: 'up' }, location: { file: 'a', line: 1, column: 1 } }, false),
    ).toEqual({
      query: 'up',
    });
  });
});
