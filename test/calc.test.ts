/**
 * POST /api/v1/calc/availability on a running server: the canon numbers for a viewer, 401
 * without a token, 400 problem+json naming the field, and never a 5xx for any body.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from './support/databases.js';
import { type JsonBody, json, startTestServer, type TestServer } from './support/server.js';
import { ratioSloYaml } from './support/specs.js';

const PATH = '/api/v1/calc/availability';
const TWO = { a: { availability: '99.9%' }, b: { availability: 0.999 } };

describe.each(DIALECTS)('availability calculator API on %s', (dialect) => {
  let dir: string;
  let server: TestServer;
  let viewer: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shinrai-calc-'));
    await writeFile(
      join(dir, 'slo.yaml'),
      ratioSloYaml('api', { target: 0.999, window: '30d', service: 'shop' }),
    );
    server = await startTestServer(dialect, { specs: dir });
    viewer = await server.token('viewer');
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('reproduces 2 × 99.9% in series = 99.8001% and in parallel = 99.9999% for a viewer', async () => {
    const serial = await server.request('POST', PATH, {
      token: viewer,
      body: { components: TWO, service: ['a', 'b'], target: '99.99%' },
    });
    expect(serial.status).toBe(200);
    const s: JsonBody = await serial.json();
    expect(Math.abs(s.availability - 0.998001)).toBeLessThan(1e-12);
    expect(s.target).toMatchObject({ target: 0.9999, achievable: false, requiredOwnAvailability: null });
    expect(s.downtimeMinutesPerYear).toBeCloseTo(0.001999 * 525_960, 6);

    const parallel = await json(
      server.request('POST', PATH, {
        token: viewer,
        body: { components: TWO, service: { parallel: ['a', 'b'] } },
      }),
    );
    expect(Math.abs(parallel.availability - 0.999999)).toBeLessThan(1e-12);
    expect(parallel.target).toBeNull();
    expect(parallel.components.map((c: { id: string }) => c.id)).toEqual(['a', 'b']);
  });

  it('answers whether checkout can reach 99.99% on 99.9% dependencies with redundancy and a shared db', async () => {
    const body = {
      target: '99.99%',
      own: '99.995%',
      components: {
        lb: { availability: '99.99%', replicas: 2 },
        'zone-a': { availability: '99.9%', dependsOn: ['db'] },
        'zone-b': { availability: '99.9%', dependsOn: ['db'] },
        db: { availability: '99.95%', replicas: 3, required: 2 },
      },
      service: { serial: ['lb', { parallel: ['zone-a', 'zone-b'] }] },
    };
    const result = await json(server.request('POST', PATH, { token: viewer, body }));
    expect(result.target.achievable).toBe(true);
    expect(result.sharedComponents).toEqual(['db']);
    expect(result.target.requiredOwnAvailability).toBeGreaterThan(0.9999);
  });

  it('answers 401 without a token', async () => {
    const response = await server.request('POST', PATH, { body: { components: TWO, service: 'a' } });
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
  });

  it.each([
    [
      'an availability outside [0, 1]',
      { components: { a: { availability: '150%' } }, service: 'a' },
      'components.a.availability',
    ],
    [
      'a percentage written as a number',
      { components: { a: { availability: 99.9 } }, service: 'a' },
      'components.a.availability',
    ],
    [
      'k greater than n',
      { components: { a: { availability: 1, replicas: 2, required: 3 } }, service: 'a' },
      'components.a.required',
    ],
    ['an unknown component', { components: TWO, service: { serial: ['a', 'c'] } }, 'service.serial.1'],
    [
      'a bad dependency form',
      { components: TWO, service: { serial: ['a', { paralel: ['b'] }] } },
      'service.serial.1',
    ],
    [
      'a cycle',
      {
        components: { a: { availability: 1, dependsOn: 'b' }, b: { availability: 1, dependsOn: 'a' } },
        service: 'a',
      },
      'components.b.dependsOn',
    ],
    [
      'a parallel group asking for more than it has',
      { components: TWO, service: { parallel: ['a'], required: 2 } },
      'service.required',
    ],
  ])('answers 400 problem+json naming the field for %s', async (_name, body, field) => {
    const response = await server.request('POST', PATH, { token: viewer, body });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    const problem: JsonBody = await response.json();
    expect(problem.code).toBe('Invalid');
    expect(problem.errors.map((e: { field?: string }) => e.field)).toContain(field);
  });

  it('documents the route in the OpenAPI document with its result', async () => {
    const document = await json(server.request('GET', '/api/openapi.json'));
    const operation = document.paths[PATH].post;
    expect(operation.responses['200']).toBeDefined();
    expect(operation.requestBody).toBeDefined();
  });

  it('never answers 5xx, whatever the body', async () => {
    const name = fc.constantFrom('a', 'b', 'zz');
    const dependency = fc.letrec((tie) => ({
      dep: fc.oneof(
        { depthSize: 'small' },
        name,
        fc.array(tie('dep'), { maxLength: 3 }),
        fc.record({ serial: fc.array(tie('dep'), { maxLength: 3 }) }),
        fc.record({
          parallel: fc.array(tie('dep'), { maxLength: 3 }),
          required: fc.integer({ min: -1, max: 4 }),
        }),
        fc.jsonValue(),
      ),
    })).dep;
    const availability = fc.oneof(
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.string(),
      fc.constantFrom('99.9%', 0.9),
    );
    const body = fc.oneof(
      fc.jsonValue(),
      fc.record(
        {
          target: availability,
          components: fc.dictionary(
            name,
            fc.record(
              {
                availability,
                replicas: fc.integer({ min: -1, max: 4 }),
                required: fc.integer({ min: 0, max: 5 }),
                dependsOn: dependency,
              },
              { requiredKeys: ['availability'] },
            ),
          ),
          service: dependency,
        },
        { requiredKeys: ['service'] },
      ),
    );
    await fc.assert(
      fc.asyncProperty(body, async (value) => {
        const response = await server.request('POST', PATH, {
          token: viewer,
          body: JSON.stringify(value),
          headers: { 'content-type': 'application/json' },
        });
        expect(response.status, JSON.stringify(value)).toBeLessThan(500);
        if (response.status !== 200)
          expect(response.headers.get('content-type')).toContain('application/problem+json');
      }),
      { numRuns: 150 },
    );
    // Deep nesting and junk are 400s too.
    const deep = `${'['.repeat(100_000)}"a"${']'.repeat(100_000)}`;
    for (const raw of [
      `{"components": ${JSON.stringify(TWO)}, "service": ${deep}}`,
      '{"components":',
      'null',
    ]) {
      const response = await server.request('POST', PATH, {
        token: viewer,
        body: raw,
        headers: { 'content-type': 'application/json' },
      });
      expect(response.status).toBe(400);
    }
  });
});
