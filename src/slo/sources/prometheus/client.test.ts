import { describe, expect, it } from 'vitest';
import type { SourceQueryError } from '../port.js';
import { parseResponse } from './client.js';

const url = 'http://prom';
const fails = (status: number, body: string) => {
  try {
    parseResponse(status, body, url);
  } catch (error) {
    return error as SourceQueryError;
  }
  throw new Error('expected a failure');
};

describe('parseResponse', () => {
  it('passes on the wait a 429 or 503 asks for, so the loop retries after it', () => {
    const ask = (status: number, body: string) => {
      try {
        parseResponse(status, body, url, 7000);
      } catch (error) {
        return error as SourceQueryError;
      }
      throw new Error('expected a failure');
    };
    expect(ask(429, 'slow down')).toMatchObject({
      reason: 'rate_limited',
      retryAfterMs: 7000,
      retryable: true,
    });
    expect(ask(503, '')).toMatchObject({ reason: 'unavailable', retryAfterMs: 7000 });
    // A refused query is not retried, whatever the header said.
    const refused = ask(
      400,
      JSON.stringify({ status: 'error', errorType: 'bad_data', error: 'parse error' }),
    );
    expect(refused).toMatchObject({ reason: 'bad_query', retryAfterMs: undefined, retryable: false });
  });

  it('reads a matrix, non-finite values included', () => {
    const body = JSON.stringify({
      status: 'success',
      data: {
        resultType: 'matrix',
        result: [
          {
            metric: { job: 'a' },
            values: [
              [1700000060, '1.5'],
              [1700000120, 'NaN'],
              [1700000180, '+Inf'],
              [1700000240, '-Inf'],
            ],
          },
        ],
      },
    });
    const [s] = parseResponse(200, body, url);
    expect(s!.labels).toEqual({ job: 'a' });
    expect(s!.points).toEqual([
      [1700000060000, 1.5],
      [1700000120000, Number.NaN],
      [1700000180000, Number.POSITIVE_INFINITY],
      [1700000240000, Number.NEGATIVE_INFINITY],
    ]);
  });

  it('classifies failures so only transient ones are retried', () => {
    const bad = fails(
      400,
      JSON.stringify({ status: 'error', errorType: 'bad_data', error: 'parse error at char 5' }),
    );
    expect([bad.reason, bad.retryable]).toEqual(['bad_query', false]);
    // The status and errorType, never Prometheus' (or an impostor's) body.
    expect(bad.message).toBe(
      'http://prom refused the query (HTTP 400 Bad Request, bad_data); run spec.query in Prometheus to see why',
    );
    const timeout = fails(
      503,
      JSON.stringify({ status: 'error', errorType: 'timeout', error: 'query timed out' }),
    );
    expect([timeout.reason, timeout.retryable]).toEqual(['unavailable', true]);
    expect(fails(502, '<html>bad gateway</html>').reason).toBe('unavailable');
    expect(fails(401, 'no').reason).toBe('unauthorized');
    const odd = fails(200, '{"status":"success","data":{"resultType":"vector","result":[]}}');
    expect([odd.reason, odd.retryable]).toEqual(['bad_response', false]);
    expect(fails(200, 'not json').message).toContain('not JSON');
  });

  it('never repeats the body of a failed answer', () => {
    const secret = 'root:x:0:0:SECRET-TOKEN';
    for (const [status, body] of [
      [500, secret],
      [200, secret],
      [400, JSON.stringify({ status: 'error', errorType: secret, error: secret })],
      [503, JSON.stringify({ status: 'error', errorType: 'timeout', error: secret })],
    ] as const)
      expect(fails(status, body).message).not.toContain('SECRET');
    expect(fails(500, secret).message).toBe('http://prom answered HTTP 500 Internal Server Error');
  });
});
