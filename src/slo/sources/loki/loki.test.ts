import { describe, expect, it } from 'vitest';
import type { MetricSource } from '../../model.js';
import { retryAfterMs } from '../http.js';
import { SourceQueryError } from '../port.js';
import { parseLokiResponse } from './client.js';
import { planLogQl } from './query.js';

const metric = (spec: Record<string, unknown>): MetricSource => ({
  type: 'Loki',
  spec,
  location: { file: 'slos.yaml', line: 1, column: 1 },
});
const URL_SHOWN = 'http://loki:3100';

describe('planLogQl', () => {
  it('counts the lines of a log query per minute', () => {
    expect(planLogQl(metric({ logql: '{app="checkout"} |= "error"' }))).toEqual({
      query: 'sum(count_over_time({app="checkout"} |= "error" [1m]))',
    });
    // spec.query is read too; a "[5m]" inside a line filter is text, not a range.
    expect(planLogQl(metric({ query: '{app="checkout"} |= "[5m]"' }))).toEqual({
      query: 'sum(count_over_time({app="checkout"} |= "[5m]" [1m]))',
    });
  });

  it('uses a metric query as written, with {{.window}} as 1m', () => {
    expect(planLogQl(metric({ logql: 'sum(count_over_time({app="a"} |= "x" [{{ .window }}]))' }))).toEqual({
      query: 'sum(count_over_time({app="a"} |= "x" [1m]))',
    });
    expect(planLogQl(metric({ logql: 'sum(count_over_time({app="a"}[60s]))' }))).toEqual({
      query: 'sum(count_over_time({app="a"}[60s]))',
    });
  });

  it('refuses queries that can never give one value per minute, saying why', () => {
    expect(planLogQl(metric({}))).toEqual({ problem: expect.stringContaining('needs spec.logql') });
    expect(planLogQl(metric({ logql: 'sum(count_over_time({app="a"}[5m]))' }))).toEqual({
      problem: expect.stringContaining('uses a [5m] range'),
    });
    expect(planLogQl(metric({ logql: 'vector(1)' }))).toEqual({
      problem: expect.stringContaining('neither a log query'),
    });
    expect(planLogQl(metric({ logql: '{app="a"}[1m]' }))).toEqual({
      problem: expect.stringContaining('starts with a stream selector but has a range'),
    });
  });
});

describe('parseLokiResponse', () => {
  const reasonOf = (fn: () => unknown) => {
    try {
      fn();
    } catch (error) {
      expect(error).toBeInstanceOf(SourceQueryError);
      const e = error as SourceQueryError;
      return { reason: e.reason, message: e.message, retryAfterMs: e.retryAfterMs };
    }
    throw new Error('did not throw');
  };

  it('reads a matrix as [ms of the evaluation instant, value]', () => {
    const body = JSON.stringify({
      status: 'success',
      data: {
        resultType: 'matrix',
        result: [
          {
            metric: { app: 'a' },
            values: [
              [1_700_000_040, '12'],
              [1_700_000_100, '+Inf'],
            ],
          },
        ],
        stats: {},
      },
    });
    expect(parseLokiResponse(200, body, URL_SHOWN)).toEqual([
      {
        labels: { app: 'a' },
        points: [
          [1_700_000_040_000, 12],
          [1_700_000_100_000, Number.POSITIVE_INFINITY],
        ],
      },
    ]);
  });

  it('classifies failures without repeating the body', () => {
    const secret = 'parse error at line 1: SECRET query text';
    expect(reasonOf(() => parseLokiResponse(400, secret, URL_SHOWN))).toEqual({
      reason: 'bad_query',
      message: `${URL_SHOWN} refused the query (HTTP 400 Bad Request); run spec.logql in Grafana Explore or logcli to see why`,
      retryAfterMs: undefined,
    });
    expect(reasonOf(() => parseLokiResponse(401, 'no org id', URL_SHOWN)).reason).toBe('unauthorized');
    expect(reasonOf(() => parseLokiResponse(429, secret, URL_SHOWN, '7'))).toMatchObject({
      reason: 'rate_limited',
      retryAfterMs: 7000,
    });
    expect(reasonOf(() => parseLokiResponse(503, secret, URL_SHOWN)).reason).toBe('unavailable');
    expect(reasonOf(() => parseLokiResponse(200, '<html>', URL_SHOWN)).reason).toBe('bad_response');
    expect(reasonOf(() => parseLokiResponse(200, '{"status":"success","data":{}}', URL_SHOWN)).reason).toBe(
      'bad_response',
    );
    const streams = JSON.stringify({ status: 'success', data: { resultType: 'streams', result: [] } });
    expect(reasonOf(() => parseLokiResponse(200, streams, URL_SHOWN))).toMatchObject({
      reason: 'bad_query',
      message: expect.stringContaining('must be a metric query'),
    });
    for (const status of [400, 401, 429, 503])
      expect(reasonOf(() => parseLokiResponse(status, secret, URL_SHOWN)).message).not.toContain('SECRET');
  });

  it('reads Retry-After in seconds or as an HTTP date', () => {
    expect(retryAfterMs('3', 0)).toBe(3000);
    expect(retryAfterMs(['2.5', '9'], 0)).toBe(2500);
    expect(retryAfterMs('Thu, 01 Jan 1970 00:00:10 GMT', 4000)).toBe(6000);
    expect(retryAfterMs('soon', 0)).toBeUndefined();
    expect(retryAfterMs(undefined, 0)).toBeUndefined();
  });
});
