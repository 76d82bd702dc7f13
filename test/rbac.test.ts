/**
 * Roles over the whole API, from its own OpenAPI document so a new route cannot slip through:
 * without a token nothing answers but the public routes, a viewer reads everything and writes
 * nothing, and no write changes anything when refused. Also the headers that keep API output
 * inert in a browser (JSON is never sniffed as HTML, nothing loads from an API answer).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from './support/databases.js';
import { type JsonBody, json, startTestServer, type TestServer } from './support/server.js';
import { ratioSloYaml } from './support/specs.js';

/** Routes anyone may call (health, metrics, the API document). */
const PUBLIC = new Set(['GET /api/openapi.json', 'GET /auth/config']);
/**
 * Webhooks authenticated by their sender's signature instead of a token (the secrets are set below,
 * so none is off): anything unsigned is a 401, whatever token it carries.
 */
const SIGNED = new Set([
  'POST /api/v1/integrations/github',
  'POST /api/v1/integrations/gitlab',
  'POST /api/v1/integrations/deployments',
]);
/** POSTs that compute and store nothing, open to viewers like a read (each says why where it is declared). */
const COMPUTATIONS = new Set([
  'POST /api/v1/risks/x/what-if',
  'POST /api/v1/calc/availability',
  'POST /api/v1/markdown/preview',
]);

/** Reads only an admin may make (the audit log, the API tokens): a viewer gets 403 like on a write. */
const ADMIN_READS = new Set(['GET /api/v1/audit', 'GET /api/v1/auth/tokens']);

describe.each(DIALECTS)('roles over every API route on %s', (dialect) => {
  let dir: string;
  let server: TestServer;
  let routes: Array<{ method: string; path: string }>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shinrai-rbac-'));
    await writeFile(
      join(dir, 'slo.yaml'),
      ratioSloYaml('api', { target: 0.999, window: '30d', service: 'shop' }),
    );
    server = await startTestServer(dialect, {
      specs: dir,
      config: { 'delivery.githubSecret': 's', 'delivery.gitlabToken': 't', 'delivery.webhookToken': 'w' },
    });
    const document = await json(server.request('GET', '/api/openapi.json'));
    routes = Object.entries(document.paths as Record<string, Record<string, unknown>>).flatMap(
      ([path, ops]) =>
        Object.keys(ops).map((method) => ({
          method: method.toUpperCase(),
          // Path parameters get a placeholder: the role check comes before the lookup.
          path: path.replace(/\{[^}]+\}/g, 'x'),
        })),
    );
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('lists the writes this test covers (at least the incident and postmortem ones)', () => {
    const writes = routes.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.path}`);
    expect(writes).toEqual(
      expect.arrayContaining([
        'POST /api/v1/incidents',
        'PATCH /api/v1/incidents/x',
        'POST /api/v1/incidents/x/notes',
        'PATCH /api/v1/incidents/x/events/x',
        'POST /api/v1/incidents/x/postmortem',
        'PATCH /api/v1/postmortems/x',
        'POST /api/v1/postmortems/x/action-items',
        'PATCH /api/v1/action-items/x',
        'POST /api/v1/alerts/x/incident',
        'POST /api/v1/alerts/x/feedback',
        'POST /api/v1/silences',
        'DELETE /api/v1/silences/x',
        'POST /api/v1/integrations/alertmanager',
        'POST /api/v1/sli/x/events',
        'PUT /api/v1/specs',
      ]),
    );
  });

  it('answers 401 without a token on every route but the public ones', async () => {
    for (const { method, path } of routes) {
      if (PUBLIC.has(`${method} ${path}`)) continue;
      const response = await server.request(method, path, { body: method === 'GET' ? undefined : {} });
      expect([method, path, response.status]).toEqual([method, path, 401]);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
    }
  });

  it('lets a viewer read but answers 403 to every write, changing nothing', async () => {
    const viewer = await server.token('viewer');
    const before = await json(server.request('GET', '/api/v1/incidents?state=all', { token: viewer }));
    for (const { method, path } of routes) {
      const response = await server.request(method, path, {
        token: viewer,
        body: method === 'GET' ? undefined : { title: 'x', severity: 'SEV1' },
      });
      const read =
        (method === 'GET' && !ADMIN_READS.has(`${method} ${path}`)) || COMPUTATIONS.has(`${method} ${path}`);
      if (SIGNED.has(`${method} ${path}`)) {
        expect([method, path, response.status]).toEqual([method, path, 401]);
        continue;
      }
      if (read) expect([path, response.status]).not.toEqual([path, 401]);
      else expect([method, path, response.status]).toEqual([method, path, 403]);
      if (read) expect([path, response.status]).not.toEqual([path, 403]);
    }
    expect(await json(server.request('GET', '/api/v1/incidents?state=all', { token: viewer }))).toEqual(
      before,
    );
  });

  it('keeps API answers inert in a browser: never sniffed, nothing loaded from them', async () => {
    const editor = await server.token('editor');
    const xss = '<script>alert(1)</script><img src=x onerror=alert(1)>';
    const created = await server.request('POST', '/api/v1/incidents', {
      token: editor,
      body: { title: xss, severity: 'SEV3', summary: xss },
    });
    const incident: JsonBody = await created.json();
    expect(incident.title).toBe(xss); // data stays as written…
    for (const response of [
      created,
      await server.request('GET', `/api/v1/incidents/${incident.reference}`, { token: editor }),
      await server.request('GET', '/api/v1/nope', { token: editor }),
    ]) {
      // …and is only ever served as JSON that a browser will not run or render.
      expect(response.headers.get('content-type')).toMatch(/^application\/(problem\+)?json/);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('content-security-policy')).toBe(
        "default-src 'none'; frame-ancestors 'none'",
      );
    }
  });
});
