import fc from 'fast-check';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Clock } from '../src/platform/clock.js';
import { type Db, openDatabase } from '../src/platform/db/database.js';
import { migrateToLatest } from '../src/platform/db/migrations.js';
import { AppError } from '../src/platform/errors.js';
import { codeForStatus, PROBLEM_CONTENT_TYPE, toProblem } from '../src/platform/http/problem.js';
import { createMetrics, type ShinraiMetrics } from '../src/platform/metrics.js';
import { ingestRoutes } from '../src/slo/ingest/routes.js';
import {
  type IngestContext,
  type IngestInput,
  ingestBatch,
  UPSERT_CHUNK_ROWS,
} from '../src/slo/ingest/service.js';
import type { Catalog } from '../src/slo/model.js';
import { loadSpecText } from '../src/slo/spec/load.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from './support/databases.js';

const NOW = Date.UTC(2026, 10, 23, 12, 0);
const MIN = 60_000;

const slo = (name: string, indicatorRef: string, objective: string) => `---
apiVersion: openslo/v1
kind: SLO
metadata: {name: ${name}}
spec:
  service: shop
  indicatorRef: ${indicatorRef}
  timeWindow: [{duration: 28d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [${objective}]
`;
const sli = (name: string, spec: string) => `---
apiVersion: openslo/v1
kind: SLI
metadata: {name: ${name}}
spec: ${spec}
`;
const SHINRAI = '{metricSource: {type: shinrai, spec: {}}}';

/** requests: a ratio SLI; latency-ms: a threshold SLI under two SLOs (lt 300, lte 1000). */
function testCatalog(): Catalog {
  const text = [
    'apiVersion: openslo/v1\nkind: Service\nmetadata: {name: shop}\nspec: {}\n',
    sli('requests', `{ratioMetric: {counter: true, good: ${SHINRAI}, total: ${SHINRAI}}}`),
    sli('latency-ms', `{thresholdMetric: ${SHINRAI}}`),
    slo('availability', 'requests', '{target: 0.999}'),
    slo('latency-fast', 'latency-ms', '{op: lt, value: 300, target: 0.99}'),
    slo('latency-ok', 'latency-ms', '{op: lte, value: 1000, target: 0.999}'),
  ].join('');
  const loaded = loadSpecText('ingest-test.yaml', text);
  const errors = loaded.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) throw new Error(`test specs: ${JSON.stringify(errors)}`);
  return loaded.catalog;
}

class TestClock implements Clock {
  constructor(public ms: number) {}
  now(): number {
    return this.ms;
  }
}

const ndjson = (items: unknown[]) => items.map((i) => JSON.stringify(i)).join('\n');

describe.each(DIALECTS)('ingestion on %s', (dialect) => {
  let testDb: TestDatabase;
  let db: Db;
  let ctx: IngestContext & { clock: TestClock; metrics: ShinraiMetrics };

  beforeEach(async () => {
    testDb = await createTestDatabase(dialect);
    db = openDatabase(testDb.url);
    await migrateToLatest(db.kysely);
    const catalog = testCatalog();
    ctx = { db, clock: new TestClock(NOW), metrics: createMetrics(), catalog: () => catalog };
  });
  afterEach(async () => {
    await db?.close();
    await testDb?.drop();
  });

  const ingest = (input: Partial<IngestInput> & { body: string }) =>
    ingestBatch({ ctx, input: { name: 'requests', contentType: 'application/x-ndjson', ...input } });

  const rows = async () =>
    (
      await db.kysely
        .selectFrom('sli_minutes')
        .select(['sli', 'minute_ts', 'good', 'total'])
        .orderBy('sli')
        .orderBy('minute_ts')
        .execute()
    ).map((r) => [r.sli, r.minute_ts - NOW, r.good, r.total]);

  const metric = async (name: string) =>
    (await ctx.metrics.registry.getSingleMetricAsString(name))
      .split('\n')
      .filter((l) => !l.startsWith('#'))
      .join('\n');

  describe('service', () => {
    it('stores counts in per-minute buckets and adds later batches to them', async () => {
      const first = await ingest({
        body: ndjson([
          { ts: NOW - 2 * MIN, good: 90, total: 100 },
          { ts: new Date(NOW - 2 * MIN + 59_999).toISOString(), bad: 1, total: 10 },
          { ts: NOW - MIN, good: 5, total: 5 },
        ]),
      });
      expect(first).toEqual({ status: 'accepted', sli: 'requests', accepted: 3, minutes: 2 });
      await ingest({
        body: JSON.stringify([{ ts: NOW - MIN + 30_000, good: 1, total: 2 }]),
        contentType: 'application/json; charset=utf-8',
      });
      // The SLO id routes to its SLI.
      await ingest({ name: 'availability', body: ndjson([{ ts: NOW, good: 0.5, total: 1 }]) });
      expect(await rows()).toEqual([
        ['requests', -2 * MIN, 99, 110],
        ['requests', -MIN, 6, 7],
        ['requests', 0, 0.5, 1],
      ]);
      expect(await metric('shinrai_ingested_events_total')).toContain(
        'shinrai_ingested_events_total{sli="requests"} 5',
      );
      expect(await metric('shinrai_ingest_batches_total')).toContain('outcome="accepted"} 3');
    });

    it('stamps updated_at with the injected clock on SQLite and the database clock on PostgreSQL', async () => {
      const before = Date.now();
      await ingest({ body: ndjson([{ ts: NOW, good: 1, total: 1 }]) });
      const { updated_at } = await db.kysely
        .selectFrom('sli_minutes')
        .select('updated_at')
        .executeTakeFirstOrThrow();
      if (dialect === 'sqlite') expect(updated_at).toBe(NOW);
      else expect(Math.abs(updated_at - before)).toBeLessThan(60_000);
    });

    it('feeds every threshold stream from raw values, classified at the threshold itself', async () => {
      const values = [100, 299.9, 300, 999, 1000, 1000.1, 5000];
      const result = await ingest({
        name: 'latency-ms',
        body: ndjson(values.map((value, i) => ({ ts: NOW - MIN + i, value }))),
      });
      expect(result).toEqual({ status: 'accepted', sli: 'latency-ms', accepted: 7, minutes: 1 });
      expect(await rows()).toEqual([
        ['latency-ms:lt:300', -MIN, 2, 7],
        ['latency-ms:lte:1000', -MIN, 5, 7],
      ]);
    });

    it('takes counts for one threshold through its SLO id, and refuses them for the SLI with two', async () => {
      await ingest({ name: 'latency-fast', body: ndjson([{ ts: NOW, good: 8, total: 10 }]) });
      expect(await rows()).toEqual([['latency-ms:lt:300', 0, 8, 10]]);
      const error = await ingest({
        name: 'latency-ms',
        body: ndjson([{ ts: NOW, good: 8, total: 10 }]),
      }).catch((e: unknown) => e);
      expect(error).toMatchObject({
        code: 'Invalid',
        errors: [{ line: 1, message: expect.stringMatching(/raw values/) }],
      });
    });

    it('acknowledges a repeated Idempotency-Key with the first answer and counts nothing twice', async () => {
      const body = ndjson([{ ts: NOW, good: 9, total: 10 }]);
      const first = await ingest({ body, idempotencyKey: 'batch-1' });
      expect(first).toEqual({
        status: 'accepted',
        sli: 'requests',
        accepted: 1,
        minutes: 1,
        idempotencyKey: 'batch-1',
      });
      ctx.clock.ms += 5 * MIN;
      const again = await ingest({ body, idempotencyKey: 'batch-1' });
      expect(again).toEqual({ ...first, status: 'duplicate' });
      expect(await rows()).toEqual([['requests', 0, 9, 10]]);
      expect(await metric('shinrai_ingest_batches_total')).toContain('outcome="duplicate"} 1');
      expect(await metric('shinrai_ingested_events_total')).toContain('} 1');
    });

    it('acknowledges a retry whose events have since aged out or whose SLI is gone', async () => {
      const body = ndjson([{ ts: NOW, good: 1, total: 1 }]);
      await ingest({ body, idempotencyKey: 'old' });
      ctx.clock.ms += 500 * 86_400_000;
      expect((await ingest({ body, idempotencyKey: 'old' })).status).toBe('duplicate');
      const empty: Catalog = { ...ctx.catalog(), slos: [], slis: [] };
      ctx = { ...ctx, catalog: () => empty };
      expect((await ingest({ body, idempotencyKey: 'old' })).status).toBe('duplicate');
      await expect(ingest({ body })).rejects.toMatchObject({ code: 'NotFound' });
    });

    it('answers Conflict when a key comes back with another body or for another SLI', async () => {
      await ingest({ body: ndjson([{ ts: NOW, good: 1, total: 1 }]), idempotencyKey: 'k' });
      await expect(
        ingest({ body: ndjson([{ ts: NOW, good: 2, total: 2 }]), idempotencyKey: 'k' }),
      ).rejects.toMatchObject({ code: 'Conflict' });
      await expect(
        ingest({ name: 'availability', body: ndjson([{ ts: NOW, good: 1, total: 1 }]), idempotencyKey: 'k' }),
      ).rejects.toMatchObject({ code: 'Conflict' });
      expect(await rows()).toEqual([['requests', 0, 1, 1]]);
    });

    it('counts a batch once when the same key arrives many times at once', async () => {
      const body = ndjson(Array.from({ length: 50 }, (_, i) => ({ ts: NOW - i * MIN, good: 1, total: 2 })));
      const results = await Promise.all(
        Array.from({ length: 12 }, () => ingest({ body, idempotencyKey: 'concurrent' })),
      );
      expect(results.filter((r) => r.status === 'accepted')).toHaveLength(1);
      expect(results.filter((r) => r.status === 'duplicate')).toHaveLength(11);
      const stored = await rows();
      expect(stored).toHaveLength(50);
      expect(stored.every(([, , good, total]) => good === 1 && total === 2)).toBe(true);
    });

    it('loses no update when different batches add to the same minutes at once', async () => {
      const batches = Array.from({ length: 20 }, (_, b) =>
        ndjson(Array.from({ length: 30 }, (_, i) => ({ ts: NOW - ((i + b) % 30) * MIN, good: 1, total: 1 }))),
      );
      await Promise.all(batches.map((body, b) => ingest({ body, idempotencyKey: `b${b}` })));
      const stored = await rows();
      expect(stored).toHaveLength(30);
      expect(stored.every(([, , good, total]) => good === 20 && total === 20)).toBe(true);
    });

    it('writes batches larger than one upsert statement', async () => {
      const minutes = UPSERT_CHUNK_ROWS * 2 + 7;
      const body = ndjson(
        Array.from({ length: minutes }, (_, i) => ({ ts: NOW - i * MIN, good: 1, total: 3 })),
      );
      expect((await ingest({ body })).minutes).toBe(minutes);
      const sums = await db.kysely
        .selectFrom('sli_minutes')
        .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.sum<number>('total').as('total')])
        .executeTakeFirstOrThrow();
      expect(Number(sums.n)).toBe(minutes);
      expect(Number(sums.total)).toBe(3 * minutes);
    });

    it('changes nothing for a bad batch, and lets the fixed batch reuse its key', async () => {
      const bad = ndjson([
        { ts: NOW, good: 1, total: 1 },
        { ts: NOW, good: 2, total: 1 },
      ]);
      const error = await ingest({ body: bad, idempotencyKey: 'fix-me' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AppError);
      expect(error).toMatchObject({ code: 'Invalid', errors: [{ line: 2 }] });
      expect(await rows()).toEqual([]);
      expect(await db.kysely.selectFrom('ingest_batches').selectAll().execute()).toEqual([]);
      const fixed = await ingest({
        body: ndjson([{ ts: NOW, good: 1, total: 1 }]),
        idempotencyKey: 'fix-me',
      });
      expect(fixed.status).toBe('accepted');
      expect(await metric('shinrai_ingest_batches_total')).toContain('outcome="rejected"} 1');
    });

    it('answers NotFound, UnsupportedMediaType and Invalid for the request around the body', async () => {
      const body = ndjson([{ ts: NOW, good: 1, total: 1 }]);
      await expect(ingest({ name: 'nope', body })).rejects.toMatchObject({ code: 'NotFound' });
      await expect(ingest({ body, contentType: 'application/xml' })).rejects.toMatchObject({
        code: 'UnsupportedMediaType',
      });
      await expect(ingest({ body, contentType: 'application/json; charset=latin1' })).rejects.toMatchObject({
        code: 'UnsupportedMediaType',
      });
      await expect(ingest({ body, contentType: undefined })).rejects.toMatchObject({
        code: 'UnsupportedMediaType',
      });
      for (const key of ['', 'x'.repeat(201), 'tab\there', 'ключ'])
        await expect(ingest({ body, idempotencyKey: key })).rejects.toMatchObject({
          code: 'Invalid',
          errors: [{ field: 'Idempotency-Key' }],
        });
      expect(await rows()).toEqual([]);
    });
  });

  describe('bounded counts (at most 1e12 events per item and per stored minute)', () => {
    it('refuses an item beyond the bound, naming its position and field, and stores nothing', async () => {
      // The payload: two 1.7e308 items in one minute summed to Infinity.
      const error = await ingest({
        body: JSON.stringify([
          { ts: NOW, good: 1, total: 1 },
          { ts: NOW, good: 1.7e308, total: 1.7e308 },
          { ts: NOW, good: 1.7e308, total: 1.7e308 },
        ]),
        contentType: 'application/json',
      }).catch((e: unknown) => e);
      expect(error).toMatchObject({
        code: 'Invalid',
        errors: [
          {
            line: 2,
            field: 'total',
            message: expect.stringMatching(/at most 1e12 events are accepted per item/),
          },
          { line: 3, field: 'total' },
        ],
      });
      expect(await rows()).toEqual([]);
    });

    it('refuses a batch whose items of one minute add up beyond the bound, naming the item that crosses it', async () => {
      const error = await ingest({
        body: ndjson([
          { ts: NOW, good: 6e11, total: 6e11 },
          { ts: NOW - MIN, good: 6e11, total: 6e11 },
          { ts: NOW + 1_000, bad: 0, total: 6e11 },
        ]),
      }).catch((e: unknown) => e);
      expect(error).toMatchObject({
        code: 'Invalid',
        errors: [
          {
            line: 3,
            field: 'total',
            message: expect.stringMatching(/add up to 1200000000000 events; at most 1e12/),
          },
        ],
      });
      expect(await rows()).toEqual([]);
      // Exactly the bound is fine.
      await ingest({ body: ndjson([{ ts: NOW, good: 1e12, total: 1e12 }]) });
      expect(await rows()).toEqual([['requests', 0, 1e12, 1e12]]);
    });

    it('refuses a batch that would take a stored minute beyond the bound, and keeps the stored counts', async () => {
      await ingest({ body: ndjson([{ ts: NOW, good: 6e11, total: 6e11 }]) });
      const error = await ingest({
        body: ndjson([
          { ts: NOW - MIN, good: 5, total: 5 },
          { ts: NOW + 10_000, good: 6e11, total: 6e11 },
        ]),
        idempotencyKey: 'too-much',
      }).catch((e: unknown) => e);
      expect(error).toMatchObject({
        code: 'Invalid',
        message: expect.stringMatching(
          /already holds 600000000000 events; adding 600000000000 would exceed 1e12 per minute: nothing of this batch was stored/,
        ),
        errors: [{ line: 2, field: 'total' }],
      });
      // Nothing of the batch, not even its other minute, nor its idempotency key.
      expect(await rows()).toEqual([['requests', 0, 6e11, 6e11]]);
      const retry = await ingest({
        body: ndjson([{ ts: NOW - MIN, good: 5, total: 5 }]),
        idempotencyKey: 'too-much',
      });
      expect(retry.status).toBe('accepted');
      expect(await metric('shinrai_ingest_batches_total')).toContain('outcome="rejected"} 1');
    });

    it('never stores a minute beyond the bound from concurrent batches', async () => {
      const results = await Promise.allSettled(
        Array.from({ length: 6 }, (_, i) =>
          ingest({ body: ndjson([{ ts: NOW + i, good: 3e11, total: 3e11 }]) }),
        ),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
      expect(await rows()).toEqual([['requests', 0, 9e11, 9e11]]);
    });
  });

  describe('HTTP', () => {
    let app: FastifyInstance;
    const routeConfigs = new Map<string, unknown>();
    const BODY_LIMIT = 8 * 1024 * 1024;

    beforeEach(async () => {
      app = Fastify({ bodyLimit: BODY_LIMIT });
      app.setValidatorCompiler(validatorCompiler);
      app.setSerializerCompiler(serializerCompiler);
      // A stand-in for the server's error handler: AppError and Fastify's 4xx as problem+json.
      app.setErrorHandler((error: FastifyError | AppError, _request, reply) => {
        const appError =
          error instanceof AppError
            ? error
            : (error as FastifyError).validation
              ? new AppError('Invalid', error.message)
              : (error as FastifyError).statusCode !== undefined && (error as FastifyError).statusCode! < 500
                ? new AppError(codeForStatus((error as FastifyError).statusCode!), error.message)
                : new AppError('Internal', error.message);
        return reply.status(appError.status).type(PROBLEM_CONTENT_TYPE).send(toProblem(appError));
      });
      app.addHook('onRoute', (route) => {
        routeConfigs.set(`${route.method} ${route.url}`, route.config);
      });
      app.post('/echo', async (request) => ({ body: request.body as unknown }));
      ingestRoutes(app, ctx);
      await app.ready();
    });
    afterEach(async () => app?.close());

    const post = (body: string, headers: Record<string, string> = {}, name = 'requests') =>
      app.inject({
        method: 'POST',
        url: `/api/v1/sli/${encodeURIComponent(name)}/events`,
        headers: { 'content-type': 'application/x-ndjson', ...headers },
        payload: body,
      });

    it('answers 400 problem+json naming the item and field for a count beyond the bound', async () => {
      const response = await post(JSON.stringify([{ ts: NOW, good: 1.7e308, total: 1.7e308 }]), {
        'content-type': 'application/json',
      });
      expect(response.statusCode).toBe(400);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.json()).toMatchObject({
        status: 400,
        detail: expect.stringMatching(
          /^1 of 1 items is invalid, so nothing was stored \(first: line 1: "total" is 1\.7e\+308; at most 1e12/,
        ),
        errors: [{ line: 1, field: 'total' }],
      });
      expect(await rows()).toEqual([]);
    });

    it('registers the route for editors', () => {
      expect(routeConfigs.get('POST /api/v1/sli/:name/events')).toEqual({ minRole: 'editor' });
    });

    it('answers 200 for a JSON array, NDJSON and text/plain, and 200 with Idempotent-Replayed for a repeat', async () => {
      const item = { ts: NOW, good: 1, total: 1 };
      for (const [type, body] of [
        ['application/json', JSON.stringify([item])],
        ['application/x-ndjson', ndjson([item])],
        ['text/plain; charset=utf-8', ndjson([item])],
      ] as const) {
        const response = await post(body, { 'content-type': type });
        expect(response.statusCode).toBe(200);
        expect(response.json()).toEqual({ status: 'accepted', sli: 'requests', accepted: 1, minutes: 1 });
        expect(response.headers['idempotent-replayed']).toBeUndefined();
      }
      const first = await post(ndjson([item]), { 'idempotency-key': 'http-1' });
      const again = await post(ndjson([item]), { 'idempotency-key': 'http-1' });
      expect(again.statusCode).toBe(200);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.json()).toEqual({ ...first.json(), status: 'duplicate' });
      expect(await rows()).toEqual([['requests', 0, 4, 4]]);
    });

    it('answers 400 problem+json naming each bad line', async () => {
      const response = await post(
        ndjson([
          { ts: NOW, good: 1, total: 1 },
          { ts: 'soon', good: 1, total: 1 },
          { ts: NOW, good: 1 },
        ]),
      );
      expect(response.statusCode).toBe(400);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      const problem = response.json() as { code: string; detail: string; errors: { line: number }[] };
      expect(problem.code).toBe('Invalid');
      expect(problem.errors.map((e) => e.line)).toEqual([2, 3]);
      expect(problem.detail).toMatch(/2 of 3 items are invalid/);
    });

    it('answers 404 for an unknown SLI', async () => {
      const response = await post(ndjson([{ ts: NOW, good: 1, total: 1 }]), {}, 'no-such-sli');
      expect(response.statusCode).toBe(404);
      expect((response.json() as { detail: string }).detail).toMatch(/no SLI or SLO named "no-such-sli"/);
    });

    it('answers 413 for a body over the limit and for too many items', async () => {
      const huge = await post(`${ndjson([{ ts: NOW, good: 1, total: 1 }])}\n${' '.repeat(BODY_LIMIT)}`);
      expect(huge.statusCode).toBe(413);
      const many = await post(
        ndjson(Array.from({ length: 100_001 }, () => ({ ts: NOW, value: 1 }))),
        {},
        'latency-ms',
      );
      expect(many.statusCode).toBe(413);
      expect((many.json() as { code: string }).code).toBe('PayloadTooLarge');
      expect(await rows()).toEqual([]);
    });

    it('answers 415 for other media types and for a body without one', async () => {
      const xml = await post('<events/>', { 'content-type': 'application/xml' });
      expect(xml.statusCode).toBe(415);
      expect(xml.headers['content-type']).toMatch(/^application\/problem\+json/);
      const none = await app.inject({ method: 'POST', url: '/api/v1/sli/requests/events', payload: '' });
      expect(none.statusCode).toBe(415);
    });

    it('answers 400 for a bad Idempotency-Key', async () => {
      const response = await post(ndjson([{ ts: NOW, good: 1, total: 1 }]), {
        'idempotency-key': 'k'.repeat(201),
      });
      expect(response.statusCode).toBe(400);
    });

    it('leaves JSON parsing of the other routes alone', async () => {
      const response = await app.inject({ method: 'POST', url: '/echo', payload: { a: 1 } });
      expect(response.json()).toEqual({ body: { a: 1 } });
    });

    it('never answers 5xx to random bodies, media types, keys and names', async () => {
      const item = fc.oneof(
        fc.record(
          {
            ts: fc.oneof(fc.integer({ min: NOW - 3 * MIN, max: NOW }), fc.string(), fc.double()),
            good: fc.oneof(fc.nat(10), fc.double(), fc.string()),
            total: fc.oneof(fc.nat(10), fc.constant(10)),
          },
          { requiredKeys: [] },
        ),
        fc.record({ ts: fc.constant(NOW), value: fc.oneof(fc.double(), fc.jsonValue()) }),
        fc.jsonValue(),
      );
      const body = fc.oneof(
        fc.string(),
        fc.array(item).map((items) => JSON.stringify(items)),
        fc.array(item).map(ndjson),
      );
      const headerText = fc.string({
        unit: fc.constantFrom(...' \t!"#$%&\'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~\u00e9'),
      });
      const contentType = fc.oneof(
        fc.constantFrom(
          'application/json',
          'application/x-ndjson',
          'text/plain',
          'text/plain; charset=iso-8859-1',
          'application/xml',
          'multipart/form-data',
          'application/json; charset=utf-8; boundary=x',
        ),
        headerText,
      );
      const name = fc.oneof(
        fc.constantFrom('requests', 'latency-ms', 'latency-fast', 'availability'),
        fc.string(),
      );
      await fc.assert(
        fc.asyncProperty(
          body,
          contentType,
          fc.option(headerText, { nil: undefined }),
          name,
          async (payload, type, key, sliName) => {
            const response = await app.inject({
              method: 'POST',
              url: `/api/v1/sli/${encodeURIComponent(sliName)}/events`,
              headers: { 'content-type': type, ...(key === undefined ? {} : { 'idempotency-key': key }) },
              payload,
            });
            if (response.statusCode >= 500) throw new Error(`${response.statusCode}: ${response.body}`);
            expect([200, 400, 404, 409, 413, 415]).toContain(response.statusCode);
          },
        ),
        { numRuns: 300 },
      );
    });
  });
});
