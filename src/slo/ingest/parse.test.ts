import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AppError } from '../../platform/errors.js';
import {
  type BatchItem,
  type IngestTarget,
  MAX_FUTURE_MS,
  MAX_PAST_MS,
  MAX_REPORTED_PROBLEMS,
  parseBatch,
  parseIsoMs,
} from './parse.js';

const NOW = Date.UTC(2026, 10, 23, 12, 0);
const MIN = 60_000;

const ratio: IngestTarget = {
  name: 'checkout-requests',
  kind: 'ratio',
  streams: [{ storageKey: 'checkout-requests' }],
};
const latency: IngestTarget = {
  name: 'latency-ms',
  kind: 'threshold',
  streams: [{ storageKey: 'latency-ms:lt:300', threshold: { op: 'lt', value: 300 } }],
};
const twoThresholds: IngestTarget = {
  name: 'latency-ms',
  kind: 'threshold',
  streams: [
    { storageKey: 'latency-ms:lt:300', threshold: { op: 'lt', value: 300 } },
    { storageKey: 'latency-ms:lte:1000', threshold: { op: 'lte', value: 1000 } },
  ],
};

function ok(body: string, target: IngestTarget = ratio): BatchItem[] {
  const result = parseBatch(body, target, { nowMs: NOW });
  if (!result.ok)
    throw new Error(`expected ok, got ${result.error.message} ${JSON.stringify(result.error.errors)}`);
  return result.items;
}

function fail(body: string, target: IngestTarget = ratio, maxItems?: number): AppError {
  const result = parseBatch(body, target, { nowMs: NOW, maxItems });
  if (result.ok) throw new Error('expected the batch to be rejected');
  return result.error;
}

/** The problem of a one-item batch. */
function problemOf(item: unknown, target: IngestTarget = ratio): string {
  const error = fail(JSON.stringify([item]), target);
  expect(error.code).toBe('Invalid');
  expect(error.errors).toHaveLength(1);
  expect(error.errors[0]!.line).toBe(1);
  return error.errors[0]!.message;
}

const ndjson = (items: unknown[]) => items.map((i) => JSON.stringify(i)).join('\n');

describe('parseBatch shapes', () => {
  it('reads a JSON array of good/total and bad/total counts, turning bad into good', () => {
    const items = ok(
      JSON.stringify([
        { ts: NOW - MIN, good: 99, total: 100 },
        { ts: '2026-11-23T11:58:30Z', bad: 3, total: 10 },
      ]),
    );
    expect(items).toEqual([
      { kind: 'counts', line: 1, tsMs: NOW - MIN, good: 99, total: 100 },
      { kind: 'counts', line: 2, tsMs: NOW - 90_000, good: 7, total: 10 },
    ]);
  });

  it('reads NDJSON with blank lines, CRLF line ends and a byte order mark', () => {
    const body = `\uFEFF${JSON.stringify({ ts: NOW, good: 1, total: 2 })}\r\n\r\n   \n${JSON.stringify({ ts: NOW, bad: 0, total: 5 })}\n`;
    expect(ok(body)).toEqual([
      { kind: 'counts', line: 1, tsMs: NOW, good: 1, total: 2 },
      { kind: 'counts', line: 4, tsMs: NOW, good: 5, total: 5 },
    ]);
  });

  it('reads raw values for a threshold SLI, and counts when it has exactly one threshold', () => {
    expect(
      ok(
        ndjson([
          { ts: NOW, value: 120.5 },
          { ts: NOW, good: 1, total: 1 },
        ]),
        latency,
      ),
    ).toEqual([
      { kind: 'raw', line: 1, tsMs: NOW, value: 120.5 },
      { kind: 'counts', line: 2, tsMs: NOW, good: 1, total: 1 },
    ]);
    expect(ok(JSON.stringify([{ ts: NOW, value: -3 }]), twoThresholds)).toEqual([
      { kind: 'raw', line: 1, tsMs: NOW, value: -3 },
    ]);
  });

  it('accepts fractional counts (precomputed ratios) and rounds epoch milliseconds down', () => {
    expect(ok(ndjson([{ ts: NOW + 0.9, good: 0.25, total: 1 }]))).toEqual([
      { kind: 'counts', line: 1, tsMs: NOW, good: 0.25, total: 1 },
    ]);
  });

  it('accepts an empty batch', () => {
    expect(ok('')).toEqual([]);
    expect(ok('[]')).toEqual([]);
    expect(ok('\n \n')).toEqual([]);
  });

  it('accepts the edges of the time window and rejects one millisecond beyond them', () => {
    expect(ok(ndjson([{ ts: NOW - MAX_PAST_MS, good: 1, total: 1 }]))).toHaveLength(1);
    expect(ok(ndjson([{ ts: NOW + MAX_FUTURE_MS, good: 1, total: 1 }]))).toHaveLength(1);
    expect(problemOf({ ts: NOW - MAX_PAST_MS - 1, good: 1, total: 1 })).toMatch(
      /more than 400 days in the past/,
    );
    expect(problemOf({ ts: NOW + MAX_FUTURE_MS + 1, good: 1, total: 1 })).toMatch(
      /more than 1 hour in the future/,
    );
  });
});

describe('parseBatch problems name the line and say what to do', () => {
  it.each([
    [42, /expected an object, got 42/],
    [null, /expected an object, got null/],
    [[1, 2], /expected an object, got an array/],
    [{ ts: NOW, good: 1, total: 1, extra: true }, /unknown field "extra"/],
    [{ good: 1, total: 1 }, /"ts" is missing/],
    [{ ts: 'yesterday', good: 1, total: 1 }, /"ts" "yesterday" is not an ISO 8601 time/],
    [{ ts: '10:00', good: 1, total: 1 }, /is not an ISO 8601 time/],
    [{ ts: String(NOW), good: 1, total: 1 }, /send epoch milliseconds as a JSON number, not a string/],
    [{ ts: NOW / 1000, good: 1, total: 1 }, /looks like epoch seconds: send milliseconds/],
    [{ ts: true, good: 1, total: 1 }, /"ts" must be an ISO 8601 string or epoch milliseconds, got true/],
    [
      { ts: '2020-01-01T00:00:00Z', good: 1, total: 1 },
      /"ts" 2020-01-01T00:00:00.000Z is more than 400 days/,
    ],
    [{ ts: NOW, total: 1 }, /give "good" or "bad" with "total"/],
    [{ ts: NOW, good: 1, bad: 0, total: 1 }, /give "good" or "bad", not both/],
    [{ ts: NOW, good: 1 }, /"total" is missing/],
    [{ ts: NOW, good: 2, total: 1 }, /"good" \(2\) is more than "total" \(1\)/],
    [{ ts: NOW, bad: 2, total: 1 }, /"bad" \(2\) is more than "total" \(1\)/],
    [{ ts: NOW, good: -1, total: 1 }, /"good" must be a finite number ≥ 0, got -1/],
    [{ ts: NOW, good: '1', total: 1 }, /"good" must be a finite number ≥ 0, got "1"/],
    [{ ts: NOW, good: 1, total: null }, /"total" must be a finite number ≥ 0, got null/],
    [{ ts: NOW, value: 1 }, /raw values are for threshold SLIs; "checkout-requests" is a ratio SLI/],
  ])('rejects %j', (item, message) => {
    expect(problemOf(item)).toMatch(message);
  });

  it('rejects numbers too large for a double (1e400 parses as Infinity)', () => {
    const error = fail(`{"ts": ${NOW}, "good": 1, "total": 1e400}`);
    expect(error.errors[0]!.message).toMatch(/"total" must be a finite number ≥ 0, got a number too large/);
    expect(fail(`{"ts": 1e400, "good": 1, "total": 1}`).errors[0]!.message).toMatch(/finite number of epoch/);
  });

  it('rejects raw values that are not numbers, and values mixed with counts', () => {
    expect(problemOf({ ts: NOW, value: '12' }, latency)).toMatch(/"value" must be a finite number/);
    expect(problemOf({ ts: NOW, value: 12, total: 1 }, latency)).toMatch(/give either "value".*not both/);
  });

  it('rejects counts for a threshold SLI with several thresholds, asking for raw values', () => {
    expect(problemOf({ ts: NOW, good: 1, total: 1 }, twoThresholds)).toBe(
      'counts can\'t be split across the 2 thresholds of "latency-ms" (lt 300, lte 1000): send raw values {"ts": …, "value": …}',
    );
  });

  it('rejects raw values when a threshold objective lacks op/value', () => {
    const target: IngestTarget = {
      name: 'x',
      kind: 'threshold',
      streams: [{ storageKey: 'x:undefined:undefined' }],
    };
    expect(problemOf({ ts: NOW, value: 1 }, target)).toMatch(/without "op" and "value"/);
  });

  it('numbers NDJSON problems by text line, blank lines included, and rejects the whole batch', () => {
    const body = [
      JSON.stringify({ ts: NOW, good: 1, total: 1 }),
      '',
      '{"ts": 1,',
      JSON.stringify({ ts: NOW, good: 3, total: 1 }),
      JSON.stringify({ ts: NOW, good: 1, total: 1 }),
    ].join('\n');
    const error = fail(body);
    expect(error.code).toBe('Invalid');
    expect(error.errors.map((e) => e.line)).toEqual([3, 4]);
    expect(error.errors[0]!.message).toMatch(/^not JSON: /);
    expect(error.message).toMatch(
      /^2 of 4 items are invalid, so nothing was stored \(first: line 3: not JSON/,
    );
  });

  it('numbers JSON array problems by position (index + 1)', () => {
    const error = fail(JSON.stringify([{ ts: NOW, good: 1, total: 1 }, { ts: NOW }, 7]));
    expect(error.errors.map((e) => e.line)).toEqual([2, 3]);
  });

  it('reports a JSON syntax error in an array body as a body problem with line and column', () => {
    const error = fail('[\n{"ts": 1, "good": 1, "total": 1},\n{"ts": 2,, }\n]');
    expect(error.code).toBe('Invalid');
    expect(error.errors).toHaveLength(1);
    expect(error.errors[0]!.field).toBe('body');
    expect(error.errors[0]!.message).toMatch(/^not valid JSON/);
  });

  it('lists at most MAX_REPORTED_PROBLEMS problems but counts all bad items', () => {
    const body = ndjson(Array.from({ length: 250 }, () => ({ ts: NOW })));
    const error = fail(body);
    expect(error.errors).toHaveLength(MAX_REPORTED_PROBLEMS);
    expect(error.message).toMatch(/^250 of 250 items are invalid.*the first 100 problems are listed$/);
  });

  it('answers PayloadTooLarge when a batch has more items than allowed, for both framings', () => {
    const items = Array.from({ length: 11 }, () => ({ ts: NOW, good: 1, total: 1 }));
    for (const body of [JSON.stringify(items), ndjson(items)]) {
      const error = fail(body, ratio, 10);
      expect(error.code).toBe('PayloadTooLarge');
      expect(error.message).toMatch(/11 items; at most 10/);
    }
    expect(ok(ndjson(items.slice(1)))).toHaveLength(10);
  });
});

describe('parseIsoMs', () => {
  it.each([
    ['2026-11-23T12:00:00Z', NOW],
    ['2026-11-23T12:00:00', NOW],
    ['2026-11-23 12:00:00', NOW],
    ['2026-11-23t12:00z', NOW],
    ['2026-11-23T21:00:00+09:00', NOW],
    ['2026-11-23T21:00:00+0900', NOW],
    ['2026-11-23T07:30:00-04:30', NOW],
    ['2026-11-23T12:00:00.123456Z', NOW + 123],
    ['2026-11-23T12:00:00,5Z', NOW + 500],
    ['2026-11-23', Date.UTC(2026, 10, 23)],
    ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29)],
    // Other ISO 8601 forms, read by Luxon.
    ['20261123T120000Z', NOW],
    ['2026-W48-1T12:00Z', NOW],
    ['2026-327T12:00Z', NOW],
    ['2026-11-23T12', NOW],
    ['2026-11-22T24:00', Date.UTC(2026, 10, 23)],
  ])('reads %s', (text, expected) => {
    expect(parseIsoMs(text)).toBe(expected);
  });

  it.each([
    '',
    '12:00',
    'T12:00',
    '2025-02-29T00:00:00Z',
    '2026-11-31',
    '2026-13-01',
    '2026-11-23T12:60',
    '2026-11-23T12:00:61Z',
    'now',
    '1763899200000',
    `2026-11-23T12:00:00Z${' '.repeat(100)}`,
  ])('rejects %j', (text) => {
    expect(parseIsoMs(text)).toBeUndefined();
  });

  it('agrees with Date.parse on every RFC 3339 UTC time it reads', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('1970-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }),
        (d) => {
          expect(parseIsoMs(d.toISOString())).toBe(d.getTime());
        },
      ),
    );
  });
});

describe('parseBatch fuzzing', () => {
  const targets = [ratio, latency, twoThresholds];
  const located = (error: AppError) =>
    error.errors.length > 0 &&
    error.errors.every(
      (e) => (Number.isInteger(e.line) && e.line! >= 1) || (e.field === 'body' && e.line === undefined),
    );

  const field = fc.oneof(
    fc.constant(NOW),
    fc.integer({ min: NOW - 2 * MAX_PAST_MS, max: NOW + 2 * MAX_FUTURE_MS }),
    fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
    fc.double(),
    fc.string(),
    fc.constant(null),
    fc.boolean(),
  );
  const item = fc.oneof(
    fc.record({ ts: field, good: field, total: field }, { requiredKeys: [] }),
    fc.record({ ts: field, bad: field, total: field }, { requiredKeys: [] }),
    fc.record({ ts: field, value: field }, { requiredKeys: [] }),
    fc.jsonValue(),
  );
  const body = fc.oneof(
    fc.string(),
    fc.string({ unit: 'binary' }),
    fc.json(),
    fc.array(item).map((items) => JSON.stringify(items)),
    fc.array(item).map((items) => ndjson(items)),
    fc.tuple(fc.array(item), fc.integer({ min: 0, max: 40 }), fc.string()).map(([items, at, junk]) => {
      const text = ndjson(items);
      return text.slice(0, at) + junk + text.slice(at);
    }),
  );

  it('never throws for any body: the answer is items or a located Invalid/PayloadTooLarge', () => {
    fc.assert(
      fc.property(
        body,
        fc.constantFrom(...targets),
        fc.integer({ min: 1, max: 20 }),
        (text, target, maxItems) => {
          const result = parseBatch(text, target, { nowMs: NOW, maxItems });
          if (result.ok) {
            expect(result.items.length).toBeLessThanOrEqual(maxItems);
            for (const i of result.items) {
              expect(i.tsMs).toBeGreaterThanOrEqual(NOW - MAX_PAST_MS);
              expect(i.tsMs).toBeLessThanOrEqual(NOW + MAX_FUTURE_MS);
              if (i.kind === 'counts') expect(i.good).toBeLessThanOrEqual(i.total);
              else expect(target.kind).toBe('threshold');
            }
          } else {
            expect(['Invalid', 'PayloadTooLarge']).toContain(result.error.code);
            expect(located(result.error)).toBe(true);
          }
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('accepts every well-formed batch whole, in either framing', () => {
    const goodItem = fc
      .tuple(
        fc.integer({ min: NOW - MAX_PAST_MS, max: NOW + MAX_FUTURE_MS }),
        fc.nat(1_000_000),
        fc.nat(1_000_000),
        fc.boolean(),
      )
      .map(([ts, a, b, useBad]) => {
        const [small, total] = a <= b ? [a, b] : [b, a];
        return useBad ? { ts, bad: small, total } : { ts: new Date(ts).toISOString(), good: small, total };
      });
    fc.assert(
      fc.property(fc.array(goodItem, { maxLength: 50 }), fc.boolean(), (items, asArray) => {
        const result = parseBatch(asArray ? JSON.stringify(items) : ndjson(items), ratio, { nowMs: NOW });
        expect(result.ok && result.items.length).toBe(items.length);
      }),
    );
  });
});
