import { describe, expect, it } from 'vitest';
import type { MetricSource } from '../../model.js';
import { SourceQueryError } from '../port.js';
import { parseNerdGraph, newRelicRetryAfterMs as retryAfterMs } from './client.js';
import { planNrql, rangedNrql } from './query.js';

const at = { file: 'slo.yaml', line: 3, column: 5 };
const metric = (spec: Record<string, unknown>): MetricSource => ({ type: 'NewRelic', spec, location: at });
const NOW = Date.UTC(2026, 9, 20, 12, 0);
const range = { fromMs: NOW - 3 * 60_000, toMs: NOW };
const url = 'https://api.newrelic.com';

const answer = (results: unknown[]) =>
  JSON.stringify({ data: { actor: { account: { nrql: { results } } } } });
const fails = (status: number, body: string, headers: Record<string, string> = {}) => {
  try {
    parseNerdGraph(status, headers, body, url, range, NOW);
  } catch (error) {
    expect(error).toBeInstanceOf(SourceQueryError);
    return error as SourceQueryError;
  }
  throw new Error('expected a failure');
};

describe('planNrql', () => {
  it('adds the one-minute TIMESERIES to spec.nrql (or spec.query), and the range per chunk', () => {
    const q = planNrql(
      metric({ nrql: "SELECT count(*) FROM Transaction WHERE appName = 'checkout';" }),
      false,
    );
    expect(q).toEqual({
      query: "SELECT count(*) FROM Transaction WHERE appName = 'checkout' TIMESERIES 1 minute",
    });
    expect(planNrql(metric({ query: 'FROM Transaction SELECT count(*)' }), false)).toEqual({
      query: 'FROM Transaction SELECT count(*) TIMESERIES 1 minute',
    });
    expect(rangedNrql('SELECT count(*) FROM T TIMESERIES 1 minute', 60_000, 180_000)).toBe(
      'SELECT count(*) FROM T TIMESERIES 1 minute SINCE 60000 UNTIL 180000',
    );
  });

  it('refuses its own SINCE, UNTIL, TIMESERIES, COMPARE WITH, but not inside a string', () => {
    for (const clause of ['SINCE 1 day ago', 'UNTIL now', 'TIMESERIES 5 minutes', 'COMPARE WITH 1 week ago'])
      expect(planNrql(metric({ nrql: `SELECT count(*) FROM Transaction ${clause}` }), false)).toMatchObject({
        problem: expect.stringMatching(/must not contain (SINCE|UNTIL|TIMESERIES|COMPARE WITH)/),
      });
    expect(
      planNrql(metric({ nrql: "SELECT count(*) FROM Log WHERE message = 'since yesterday'" }), false),
    ).toHaveProperty('query');
  });

  it('explains a missing query, a non-NRQL text and counter: true', () => {
    expect(planNrql(metric({}), false)).toMatchObject({ problem: expect.stringContaining('spec.nrql') });
    expect(planNrql(metric({ nrql: 'sum(rate(x[1m]))' }), false)).toMatchObject({
      problem: expect.stringContaining('SELECT or FROM'),
    });
    expect(planNrql(metric({ nrql: 'SELECT count(*) FROM T' }), true)).toMatchObject({
      problem: expect.stringContaining('counter: true'),
    });
  });
});

describe('parseNerdGraph', () => {
  it('files each bucket under its beginTimeSeconds; null buckets are no data, 0 is a value', () => {
    const s = NOW / 1000;
    const series = parseNerdGraph(
      200,
      {},
      answer([
        { beginTimeSeconds: s - 180, endTimeSeconds: s - 120, count: 7 },
        { beginTimeSeconds: s - 120, endTimeSeconds: s - 60, count: 0 },
        { beginTimeSeconds: s - 60, endTimeSeconds: s, average: null },
        { beginTimeSeconds: s, endTimeSeconds: s + 60, count: 9 }, // outside the range
      ]),
      url,
      range,
      NOW,
    );
    expect(series).toEqual([
      {
        labels: {},
        points: [
          [NOW - 180_000, 7],
          [NOW - 120_000, 0],
        ],
      },
    ]);
  });

  it('reads a percentile object and one series per facet', () => {
    const s = NOW / 1000 - 60;
    const series = parseNerdGraph(
      200,
      {},
      answer([
        {
          beginTimeSeconds: s,
          endTimeSeconds: s + 60,
          facet: 'a',
          appName: 'a',
          'percentile.duration': { '95': 0.3 },
        },
        {
          beginTimeSeconds: s,
          endTimeSeconds: s + 60,
          facet: ['b', 'x'],
          'percentile.duration': { '95': 0.5 },
        },
      ]),
      url,
      range,
      NOW,
    );
    expect(series).toEqual([
      { labels: { facet: 'a' }, points: [[NOW - 60_000, 0.3]] },
      { labels: { facet0: 'b', facet1: 'x' }, points: [[NOW - 60_000, 0.5]] },
    ]);
  });

  it('classifies HTTP failures, with the wait a 429 asks for', () => {
    expect(fails(401, '{}').reason).toBe('unauthorized');
    expect(fails(503, 'secret body').reason).toBe('unavailable');
    const limited = fails(429, '{}', { 'retry-after': '7' });
    expect(limited).toMatchObject({ reason: 'rate_limited', retryAfterMs: 7000 });
    expect(fails(200, '<html>').reason).toBe('bad_response');
    expect(fails(200, JSON.stringify({ data: { actor: null } })).reason).toBe('bad_response');
  });

  it("classifies NerdGraph's GraphQL errors (HTTP 200) without repeating their text", () => {
    const errors = (message: string, errorClass?: string) =>
      JSON.stringify({
        data: { actor: { account: { nrql: null } } },
        errors: [{ message, ...(errorClass ? { extensions: { errorClass } } : {}) }],
      });
    const syntax = fails(200, errors("NRQL Syntax Error: unexpected 'FROM' secret-x", 'INVALID_INPUT'));
    expect(syntax.reason).toBe('bad_query');
    expect(syntax.message).toContain('INVALID_INPUT');
    expect(syntax.message).not.toContain('secret-x');
    expect(fails(200, errors('Not authorized to query account 1')).reason).toBe('unauthorized');
    expect(fails(200, errors('NRDB query timed out', 'TIMEOUT')).reason).toBe('timeout');
    expect(fails(200, errors('Something went wrong', 'SERVER_ERROR')).reason).toBe('unavailable');
    expect(fails(200, errors('too many requests', 'TOO_MANY_REQUESTS')).reason).toBe('rate_limited');
  });

  it('refuses a query that returns several values a minute, and a partial answer', () => {
    const s = NOW / 1000 - 60;
    expect(
      fails(200, answer([{ beginTimeSeconds: s, endTimeSeconds: s + 60, count: 1, sum: 2 }])).reason,
    ).toBe('bad_query');
    const partial = JSON.stringify({
      data: {
        actor: {
          account: { nrql: { results: [{ beginTimeSeconds: s, endTimeSeconds: s + 60, count: 1 }] } },
        },
      },
      errors: [{ message: 'partial', extensions: { errorClass: 'SERVER_ERROR' } }],
    });
    expect(fails(200, partial).reason).toBe('unavailable');
  });
});

describe('retryAfterMs', () => {
  it('reads Retry-After seconds or date, else X-RateLimit-Reset', () => {
    expect(retryAfterMs({ 'retry-after': '2' }, NOW)).toBe(2000);
    expect(retryAfterMs({ 'retry-after': new Date(NOW + 5000).toUTCString() }, NOW)).toBe(5000);
    expect(retryAfterMs({ 'x-ratelimit-reset': String(NOW / 1000 + 30) }, NOW)).toBe(30_000);
    expect(retryAfterMs({}, NOW)).toBeUndefined();
  });
});

describe('New Relic egress', () => {
  it('refuses an address egress.allow does not list, before sending the key', async () => {
    const { Egress, parseEgressAllow } = await import('../../../platform/egress.js');
    const { newRelicSource } = await import('./index.js');
    const parsed = parseEgressAllow(['api.newrelic.com']);
    if (!parsed.ok) throw new Error('policy');
    const client = await newRelicSource.connect({
      url: 'http://127.0.0.1:9/graphql',
      headers: {},
      timeoutMs: 5000,
      credentials: { apiKey: 'NRAK-X', accountId: '1' },
      egress: new Egress(parsed.policy),
    });
    const error = await client
      .fetchMinutes('SELECT count(*) FROM T TIMESERIES 1 minute', range)
      .catch((e: unknown) => e);
    await client.close();
    expect(error).toMatchObject({
      reason: 'egress',
      message: expect.stringMatching(/^egress refused: 127\.0\.0\.1/),
    });
  });

  it('needs the key and a numeric account id', async () => {
    const { newRelicSource } = await import('./index.js');
    const base = { url: undefined, headers: {}, timeoutMs: 1000, egress: {} as never };
    await expect(newRelicSource.connect({ ...base, credentials: { accountId: '1' } })).rejects.toThrow(
      /apiKey/,
    );
    await expect(
      newRelicSource.connect({ ...base, credentials: { apiKey: 'k', accountId: 'abc' } }),
    ).rejects.toThrow(/accountId/);
  });
});

/** A loopback listener that accepts connections and never answers. */
async function hungServer(): Promise<{ port: number; close: () => void }> {
  const { createServer } = await import('node:net');
  const sockets: Array<{ destroy(): void }> = [];
  const server = createServer((socket) => void sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

describe('New Relic timeouts', () => {
  it('gives up on a NerdGraph that never answers: a timeout, retried by the pull loop', async () => {
    const { Egress, parseEgressAllow } = await import('../../../platform/egress.js');
    const { newRelicSource } = await import('./index.js');
    const hung = await hungServer();
    const parsed = parseEgressAllow([]);
    if (!parsed.ok) throw new Error('policy');
    const client = await newRelicSource.connect({
      url: `http://127.0.0.1:${hung.port}/graphql`,
      headers: {},
      timeoutMs: 300,
      credentials: { apiKey: 'NRAK-HUNG', accountId: '1' },
      egress: new Egress(parsed.policy),
    });
    const error = await client
      .fetchMinutes('SELECT count(*) FROM T TIMESERIES 1 minute', range)
      .catch((e: unknown) => e);
    await client.close();
    hung.close();
    expect(error).toMatchObject({
      reason: 'timeout',
      retryable: true,
      message: expect.stringMatching(/did not answer within 0\.3 s$/),
    });
  });
});
