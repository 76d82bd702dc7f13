import { describe, expect, it } from 'vitest';
import { sharedFixture } from '../../../../test/support/fixtures.js';
import type { MetricSource } from '../../model.js';
import { loadSpecSources } from '../../spec/load.js';
import { planPulls } from '../plan.js';
import type { SourceQueryError } from '../port.js';
import { SOURCES } from '../registry.js';
import { classifyDatadogStatus, datadogMinutes } from './client.js';
import { datadogSource } from './index.js';
import { planDatadogQuery } from './query.js';

const metric = (query?: string): MetricSource => ({
  type: 'Datadog',
  spec: query === undefined ? {} : { query },
  location: { file: 'slos.yaml', line: 1, column: 1 },
});
const SHOWN = 'https://api.datadoghq.com';
const M = 60_000;
const T = Date.UTC(2026, 9, 20, 12, 0);

describe('planDatadogQuery', () => {
  it('rolls a counted query up per minute with sum, anything else with avg', () => {
    expect(planDatadogQuery(metric('sum:hits{service:a}.as_count()'), false)).toEqual({
      query: 'sum:hits{service:a}.as_count().rollup(sum, 60)',
    });
    // counter: true (the OpenSLO fixture's form) counts.
    expect(planDatadogQuery(metric('sum:hits{service:a} by {host}'), true)).toEqual({
      query: 'sum:hits{service:a} by {host}.as_count().rollup(sum, 60)',
    });
    expect(planDatadogQuery(metric('avg:latency.p99{service:a}'), false)).toEqual({
      query: 'avg:latency.p99{service:a}.rollup(avg, 60)',
    });
    expect(
      planDatadogQuery(
        metric('sum:a{*}.as_count().rollup(sum, 60) / sum:b{*}.as_count().rollup(sum, 60)'),
        false,
      ),
    ).toEqual({
      query: 'sum:a{*}.as_count().rollup(sum, 60) / sum:b{*}.as_count().rollup(sum, 60)',
    });
  });

  it('refuses queries that can never give one point per minute, saying why', () => {
    expect(planDatadogQuery(metric(), false)).toEqual({
      problem: expect.stringContaining('needs spec.query'),
    });
    expect(planDatadogQuery(metric('sum:hits{*}.rollup(sum, 300)'), false)).toEqual({
      problem: expect.stringContaining('rolls up every 300 s'),
    });
    expect(planDatadogQuery(metric('sum:hits{*}.rollup(sum)'), false)).toEqual({
      problem: expect.stringContaining('at the default interval'),
    });
    expect(planDatadogQuery(metric('sum:a{*}.as_count() / sum:b{*}.as_count()'), false)).toEqual({
      problem: expect.stringContaining('not a single metric query'),
    });
    expect(planDatadogQuery(metric('sum:hits{*}.as_rate()'), true)).toEqual({
      problem: expect.stringContaining('asks for a rate'),
    });
  });

  it("plans the OpenSLO v1 fixture's Datadog SLI", async () => {
    const slo = `apiVersion: openslo/v1
kind: SLO
metadata: { name: search }
spec:
  service: my-service
  budgetingMethod: Occurrences
  timeWindow: [{ duration: 28d, isRolling: true }]
  indicatorRef: search-availability
  objectives: [{ target: 0.99 }]
`;
    const loaded = await loadSpecSources(sharedFixture('openslo/v1'), [{ file: 'search.yaml', text: slo }]);
    const plan = planPulls(loaded.catalog, SOURCES, { defaultUrl: false });
    const pulled = plan.slis.find((s) => s.sli === 'search-availability');
    expect(plan.problems.filter((p) => p.sli === 'search-availability')).toEqual([]);
    expect(pulled).toMatchObject({
      kind: 'datadog',
      source: 'datadog',
      queries: {
        kind: 'ratio',
        good: 'sum:trace.http.request.hits.by_http_status{http.status_code:200}.as_count().rollup(sum, 60)',
        total: 'sum:trace.http.request.hits.by_http_status{*}.as_count().rollup(sum, 60)',
      },
    });
    expect(plan.sources.get('datadog')?.connection).toMatchObject({
      apiKey: 'my-api-key',
      appKey: 'my-app-key',
    });
    expect(datadogSource.defaultUrl?.({})).toBe('https://api.datadoghq.com');
  });
});

describe('datadogMinutes', () => {
  const range = { fromMs: T, toMs: T + 3 * M };

  it('files points by minute start, leaves null points and points outside the range out', () => {
    const series = datadogMinutes(
      {
        status: 'ok',
        series: [
          {
            metric: 'hits',
            interval: 60,
            tagSet: ['service:a', 'solo'],
            pointlist: [
              [T - M, 5],
              [T, 7],
              [T + M, null as unknown as number],
              [T + 2 * M + 500, 3],
              [T + 3 * M, 9],
            ],
          },
        ],
      },
      range,
      SHOWN,
    );
    expect(series).toEqual([
      {
        labels: { service: 'a', solo: '', __name__: 'hits' },
        points: [
          [T, 7],
          [T + 2 * M, 3],
        ],
      },
    ]);
    expect(datadogMinutes({ status: 'ok', series: [] }, range, SHOWN)).toEqual([]);
  });

  it('refuses an answer that is an error, coarser than a minute or not points', () => {
    const reason = (answer: unknown) => {
      try {
        datadogMinutes(answer as never, range, SHOWN);
      } catch (error) {
        return (error as SourceQueryError).reason;
      }
      return 'none';
    };
    expect(reason({ status: 'error', series: [] })).toBe('bad_query');
    expect(reason({ status: 'ok', series: [{ interval: 120, pointlist: [] }] })).toBe('bad_response');
    expect(reason({ status: 'ok', series: [{ interval: 60, pointlist: [['x', 1]] }] })).toBe('bad_response');
    expect(reason({ status: 'ok', series: [{ interval: 60, pointlist: [[T, 'x']] }] })).toBe('bad_response');
    expect(reason({ status: 'ok', series: {} })).toBe('bad_response');
    expect(reason('{not json')).toBe('bad_response');
    expect(reason({ series: [] })).toBe('bad_response');
    expect(reason({ status: 'ok', series: [], _unparsed: true })).toBe('bad_response');
  });
});

describe('classifyDatadogStatus', () => {
  it('classifies by status, with the rate limit reset as the wait', () => {
    expect(classifyDatadogStatus(403, {}, SHOWN).reason).toBe('unauthorized');
    expect(classifyDatadogStatus(401, {}, SHOWN).reason).toBe('unauthorized');
    const limited = classifyDatadogStatus(
      429,
      { 'x-ratelimit-reset': '12', 'x-ratelimit-period': '3600' },
      SHOWN,
    );
    expect(limited).toMatchObject({ reason: 'rate_limited', retryAfterMs: 12_000, retryable: true });
    expect(limited.message).toBe(
      `${SHOWN} is rate limiting metric queries (HTTP 429 Too Many Requests, resets in 12 s)`,
    );
    expect(classifyDatadogStatus(429, {}, SHOWN).retryAfterMs).toBeUndefined();
    expect(classifyDatadogStatus(400, {}, SHOWN)).toMatchObject({ reason: 'bad_query', retryable: false });
    expect(classifyDatadogStatus(502, {}, SHOWN)).toMatchObject({ reason: 'unavailable', retryable: true });
    expect(classifyDatadogStatus(302, {}, SHOWN).reason).toBe('bad_response');
  });
});
