import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { budgetReport } from '../src/slo/budget-report.js';
import { DIALECTS } from './support/databases.js';
import { type JsonBody, json, ManualClock, startTestServer, type TestServer } from './support/server.js';
import { ratioSloYaml } from './support/specs.js';

const SHOP = fileURLToPath(new URL('../examples/shop', import.meta.url));
const NOW = Date.UTC(2026, 10, 23, 12, 0);

describe.each(DIALECTS)('API on %s', (dialect) => {
  let server: TestServer;
  let viewer: string;
  let editor: string;
  const clock = new ManualClock(NOW);

  beforeAll(async () => {
    server = await startTestServer(dialect, { specs: SHOP, clock });
    viewer = await server.token('viewer');
    editor = await server.token('editor');
  });
  afterAll(async () => server?.close());

  it('answers without a token with 401 as application/problem+json', async () => {
    const response = await server.request('GET', '/api/v1/slos');
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const problem = await json(response);
    expect(problem).toMatchObject({
      status: 401,
      code: 'Unauthorized',
      title: 'Authentication required',
      instance: '/api/v1/slos',
    });
    expect(problem.requestId).toEqual(expect.any(String));
  });

  it('refuses an unknown token and a viewer that writes', async () => {
    expect(
      (
        await server.request('GET', '/api/v1/slos', {
          token: 'shr_aaaaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb',
        })
      ).status,
    ).toBe(401);
    const write = await server.request('POST', '/api/v1/sli/checkout-requests/events', {
      token: viewer,
      body: [{ ts: NOW - 60_000, good: 1, total: 1 }],
    });
    expect(write.status).toBe(403);
    expect((await json(write)).detail).toMatch(/needs the editor role/);
  });

  it('lists services and SLOs from the specs', async () => {
    const services = await json(server.request('GET', '/api/v1/services', { token: viewer }));
    expect(services.map((s: { name: string }) => s.name)).toEqual(['checkout', 'login', 'search']);
    const slos = await json(server.request('GET', '/api/v1/slos?service=checkout', { token: viewer }));
    expect(slos.map((s: { id: string }) => s.id)).toEqual(['checkout-availability', 'checkout-latency']);
    const byOwner = await json(server.request('GET', '/api/v1/slos?owner=team-identity', { token: viewer }));
    expect(byOwner.map((s: { id: string }) => s.id)).toEqual(['login-availability']);
    const byLabel = await json(server.request('GET', '/api/v1/slos?label=tier=critical', { token: viewer }));
    expect(byLabel.map((s: { id: string }) => s.id)).toEqual(['checkout-availability']);
  });

  it('evaluates ingested data and serves the same numbers as shinrai budget', async () => {
    const items = Array.from({ length: 120 }, (_, i) => ({
      ts: NOW - (120 - i) * 60_000,
      good: i % 10 === 0 ? 990 : 1000,
      total: 1000,
    }));
    const response = await server.request('POST', '/api/v1/sli/checkout-requests/events', {
      token: editor,
      body: items,
      headers: { 'idempotency-key': `api-test-${dialect}` },
    });
    expect(response.status).toBe(200);
    await server.shinrai.evaluator.tick();
    const detail = await json(server.request('GET', '/api/v1/slos/checkout-availability', { token: viewer }));
    const [status] = detail.status;
    const expected = budgetReport(
      server.shinrai.ctx.specs.current.catalog,
      items.map((it) => ({ sli: 'checkout-requests', tsMs: it.ts, good: it.good, total: it.total })),
      NOW,
    ).report.slos.find((s) => s.id === 'checkout-availability')!;
    expect(status.sli).toBeCloseTo(expected.sli!, 12);
    expect(status.budget.remaining).toBeCloseTo(expected.budget.remaining, 9);
    expect(status.burnRates['1h']).toBeCloseTo(expected.burnRates['1h']!, 9);
    expect(status.evaluatedAt).toBe(new Date(NOW).toISOString());
    expect(status.stale).toBe(false);
  });

  it('marks a status stale when evaluation has stopped for several ticks', async () => {
    clock.advance(4 * 3600 * 1000);
    const detail = await json(server.request('GET', '/api/v1/slos/checkout-availability', { token: viewer }));
    expect(detail.status[0].stale).toBe(true);
    await server.shinrai.evaluator.tick();
    const fresh = await json(server.request('GET', '/api/v1/slos/checkout-availability', { token: viewer }));
    expect(fresh.status[0].stale).toBe(false);
    clock.ms = NOW;
    await server.shinrai.evaluator.tick();
  });

  it('sorts SLOs by budget remaining', async () => {
    const slos = await json(server.request('GET', '/api/v1/slos?sort=budget', { token: viewer }));
    expect(slos[0].id).toBe('checkout-availability');
  });

  it('answers 404 for an unknown SLO and an unknown route, and 400 for a bad query', async () => {
    expect((await server.request('GET', '/api/v1/slos/nope', { token: viewer })).status).toBe(404);
    const route = await server.request('GET', '/api/v1/nothing', { token: viewer });
    expect(route.status).toBe(404);
    expect(route.headers.get('content-type')).toMatch(/problem\+json/);
    for (const path of [
      '/api/v1/slos/%25',
      '/api/v1/slos/%25/history',
      '/api/v1/slos/a%2Fb/history',
      '/api/v1/slos/%E0%A4%A',
    ])
      expect((await server.request('GET', path, { token: viewer })).status, path).toBeLessThan(500);
    const bad = await server.request('GET', '/api/v1/slos?sort=sideways', { token: viewer });
    expect(bad.status).toBe(400);
    expect((await json(bad)).code).toBe('Invalid');
  });

  it('reads the history step as a duration (5m, 1h) and refuses a zero step with the reason', async () => {
    const base =
      '/api/v1/slos/checkout-availability/history?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z';
    const ok = await server.request('GET', `${base}&step=1h`, { token: viewer });
    expect(ok.status).toBe(200);
    expect((await json(ok)).step).toBe('1h');
    const tooMany = await server.request('GET', `${base}&step=5m`.replace('01-02', '03-30'), {
      token: viewer,
    });
    expect((await json(tooMany)).detail).toMatch(/more than 10,000 points/);
    const zero = await server.request('GET', `${base}&step=0m`, { token: viewer });
    expect(zero.status).toBe(400);
    expect((await json(zero)).detail).toMatch(/step: "0m" is not a duration/);
  });

  it('serves the OpenAPI document, health, readiness and metrics', async () => {
    const openapi = await json(server.request('GET', '/api/openapi.json'));
    expect(Object.keys(openapi.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/services',
        '/api/v1/slos',
        '/api/v1/slos/{id}',
        '/api/v1/slos/{id}/history',
        '/api/v1/specs',
      ]),
    );
    expect((await server.request('GET', '/healthz')).status).toBe(200);
    const ready = await json(server.request('GET', '/readyz'));
    expect(ready).toMatchObject({ status: 'ready', database: dialect, leader: true });
    const metrics = await (await server.request('GET', '/metrics')).text();
    expect(metrics).toContain('shinrai_ingested_events_total');
    expect(metrics).toContain('shinrai_leader 1');
  });

  it('compresses large answers for clients that accept it, and leaves small ones alone', async () => {
    const gzip = { 'accept-encoding': 'gzip' };
    const openapi = await server.request('GET', '/api/openapi.json', { headers: gzip });
    expect(openapi.headers.get('content-encoding')).toBe('gzip');
    expect(((await openapi.json()) as JsonBody).openapi).toMatch(/^3\./);
    const identity = await server.request('GET', '/api/openapi.json', {
      headers: { 'accept-encoding': 'identity' },
    });
    expect(identity.headers.get('content-encoding')).toBeNull();
    const small = await server.request('GET', '/healthz', { headers: gzip });
    expect(small.headers.get('content-encoding')).toBeNull();
  });

  it('takes specs through PUT /api/v1/specs, skipping an invalid object without hiding the valid ones', async () => {
    const good = ratioSloYaml('api-uptime', { service: 'checkout', sli: 'api-requests' });
    const bad = good.replace('api-uptime', 'api-broken').replace('target: 0.99', 'target: 99');
    const response = await server.request('PUT', '/api/v1/specs', {
      token: editor,
      body: {
        files: [
          { path: 'extra/good.yaml', content: good },
          { path: 'extra/bad.yaml', content: bad },
        ],
      },
    });
    expect(response.status).toBe(200);
    const report = await json(response);
    expect(report.diagnostics).toContainEqual(
      expect.objectContaining({ file: 'api:extra/bad.yaml', rule: 'openslo/target-range' }),
    );
    const slos = await json(server.request('GET', '/api/v1/slos', { token: viewer }));
    expect(slos.map((s: { id: string }) => s.id)).toContain('api-uptime');
    expect(slos.map((s: { id: string }) => s.id)).not.toContain('api-broken');
    expect(slos).toHaveLength(6);
    // Clear the uploads again for the other tests.
    expect(
      (await server.request('PUT', '/api/v1/specs', { token: editor, body: { files: [] } })).status,
    ).toBe(200);
  });

  it('answers fuzzed paths and query strings on the read routes with 4xx or 200, never 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/api/v1/slos/', '/api/v1/slos?', '/api/v1/services?', '/api/v1/specs?'),
        fc.string({ maxLength: 40 }),
        fc.constantFrom('', '/history', '/history?from=2026-01-01T00:00:00Z&step=', '/history?to=x'),
        async (prefix, noise, suffix) => {
          const path = `${prefix}${encodeURIComponent(noise).replace(/%2F/g, '/')}${prefix.endsWith('/') ? suffix : ''}`;
          const response = await server.request('GET', path, { token: viewer });
          expect(response.status, path).toBeLessThan(500);
        },
      ),
      { numRuns: 80 },
    );
  });

  it('answers fuzzed bodies and headers on every write route with 4xx or 200, never 5xx', async () => {
    const routes = [
      '/api/v1/specs',
      '/api/v1/sli/checkout-requests/events',
      '/api/v1/sli/search-latency-ms/events',
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        fc.constantFrom('POST', 'PUT'),
        fc.oneof(
          fc.string(),
          fc.json(),
          fc.constant('[{"ts": 1, "value": 5}]'),
          fc.constant('{"files": [{"path": "../x", "content": ""}]}'),
        ),
        fc.constantFrom(
          'application/json',
          'application/x-ndjson',
          'text/plain',
          'application/xml',
          'application/json; charset=utf-8',
        ),
        fc.option(fc.string({ maxLength: 300 })),
        async (route, method, body, contentType, idempotencyKey) => {
          const headers: Record<string, string> = { 'content-type': contentType };
          if (idempotencyKey !== null)
            headers['idempotency-key'] = idempotencyKey.replace(/[^\x20-\x7e]/g, '');
          const response = await server.request(method, route, { token: editor, body, headers });
          expect(response.status, `${method} ${route} ${JSON.stringify(body)}`).toBeLessThan(500);
          if (response.status >= 400) expect(response.headers.get('content-type')).toMatch(/problem\+json/);
        },
      ),
      { numRuns: 60 },
    );
    // Nothing above may have changed the specs.
    expect(
      (await server.request('PUT', '/api/v1/specs', { token: editor, body: { files: [] } })).status,
    ).toBe(200);
  });
});
