/**
 * An empty request body means `{}` on every route whose body is a JSON object, on both databases:
 * no body and no Content-Type over real HTTP, `Content-Length: 0` with `application/json`, a
 * blank body and JSON `null` (app.inject). Optional-only bodies then succeed; bodies with required
 * fields answer a problem+json that names the missing fields.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from './support/databases.js';
import { type JsonBody, json, ManualClock, startTestServer, type TestServer } from './support/server.js';
import { ratioSloYaml } from './support/specs.js';

const T0 = Date.UTC(2026, 9, 1, 12, 0);

/** The empty bodies a client may send, each as app.inject options. */
const EMPTY_BODIES: ReadonlyArray<{ name: string; payload?: string; headers: Record<string, string> }> = [
  { name: 'no body, no Content-Type', headers: {} },
  { name: 'Content-Length 0, no Content-Type', payload: '', headers: { 'content-length': '0' } },
  {
    name: 'application/json with Content-Length 0',
    payload: '',
    headers: { 'content-type': 'application/json', 'content-length': '0' },
  },
  { name: 'a blank JSON body', payload: ' \n', headers: { 'content-type': 'application/json' } },
  { name: 'JSON null', payload: 'null', headers: { 'content-type': 'application/json' } },
];

describe.each(DIALECTS)('empty request bodies on %s', (dialect) => {
  let dir: string;
  let server: TestServer;
  let editor: string;
  let admin: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shinrai-empty-bodies-'));
    await writeFile(join(dir, 'slo.yaml'), ratioSloYaml('api', { service: 'shop' }));
    server = await startTestServer(dialect, {
      specs: dir,
      clock: new ManualClock(T0),
      // Small, so the JSON parser that reads empty bodies is seen to keep the body limit.
      config: { 'server.bodyLimitBytes': 64 * 1024 },
    });
    editor = await server.token('editor');
    admin = await server.token('admin');
    const declared = await server.request('POST', '/api/v1/incidents', {
      token: editor,
      body: { title: 'Checkout errors', severity: 'SEV2', services: ['shop'], slos: ['api'] },
    });
    expect(declared.status).toBe(201);
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const inject = (
    method: 'POST' | 'PATCH' | 'PUT',
    url: string,
    body: (typeof EMPTY_BODIES)[number],
    token = editor,
  ) =>
    server.shinrai.server.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}`, ...body.headers },
      ...(body.payload === undefined ? {} : { payload: body.payload }),
    });

  it('drafts a postmortem over real HTTP with no body and no Content-Type', async () => {
    const response = await fetch(`${server.shinrai.url}/api/v1/incidents/INC-1/postmortem`, {
      method: 'POST',
      headers: { authorization: `Bearer ${editor}` },
    });
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({ status: 'draft', incidents: ['INC-1'] });
  });

  it('drafts a postmortem over real HTTP with application/json and no body (curl -X POST -H)', async () => {
    const response = await fetch(`${server.shinrai.url}/api/v1/incidents/INC-1/postmortem`, {
      method: 'POST',
      headers: { authorization: `Bearer ${editor}`, 'content-type': 'application/json' },
    });
    expect(response.status).toBe(201);
  });

  it.each(EMPTY_BODIES)('reads $name as {} on routes whose fields are all optional', async (body) => {
    const postmortem = await inject('POST', '/api/v1/incidents/INC-1/postmortem', body);
    expect(postmortem.statusCode, postmortem.body).toBe(201);
    expect(postmortem.json()).toMatchObject({ incidents: ['INC-1'] });

    const backtest = await inject('POST', '/api/v1/slos/api/backtest', body);
    expect(backtest.statusCode, backtest.body).toBe(200);

    const patched = await inject('PATCH', '/api/v1/incidents/INC-1', body);
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json()).toMatchObject({ reference: 'INC-1', title: 'Checkout errors' });

    const pm = postmortem.json() as JsonBody;
    const edited = await inject('PATCH', `/api/v1/postmortems/${pm.id}`, body);
    expect(edited.statusCode, edited.body).toBe(200);
    expect(edited.json()).toMatchObject({ status: 'draft', markdown: pm.markdown });

    const item = await server.request('POST', `/api/v1/postmortems/${pm.id}/action-items`, {
      token: editor,
      body: { title: 'Add a canary', category: 'prevent', priority: 'P1' },
    });
    const itemId = ((await item.json()) as JsonBody).id;
    const unchanged = await inject('PATCH', `/api/v1/action-items/${itemId}`, body);
    expect(unchanged.statusCode, unchanged.body).toBe(200);
    expect(unchanged.json()).toMatchObject({ title: 'Add a canary', priority: 'P1', status: 'open' });
  });

  it.each(EMPTY_BODIES)(
    'names the missing fields when $name is sent where some are required',
    async (body) => {
      const declare = await inject('POST', '/api/v1/incidents', body);
      expect(declare.statusCode).toBe(400);
      expect(declare.headers['content-type']).toContain('application/problem+json');
      const problem = declare.json() as JsonBody;
      expect(problem.detail).not.toContain('received null');
      expect(problem.errors.map((e: JsonBody) => e.field)).toEqual(
        expect.arrayContaining(['title', 'severity']),
      );

      const override = await inject('POST', '/api/v1/gate/overrides', body, admin);
      expect(override.statusCode).toBe(400);
      expect((override.json() as JsonBody).errors.map((e: JsonBody) => e.field)).toEqual(
        expect.arrayContaining(['service', 'reason']),
      );

      const item = await inject('POST', '/api/v1/postmortems/no-such/action-items', body);
      expect(item.statusCode).toBe(400);
      expect((item.json() as JsonBody).detail).toContain('title');
    },
  );

  it('lets a route without a body schema take an empty application/json body', async () => {
    // An alert that does not exist: the answer is about the alert, not about the empty body.
    const response = await inject('POST', '/api/v1/alerts/no-such-alert/incident', EMPTY_BODIES[2]!);
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toContain('application/problem+json');
  });

  it('says in the OpenAPI document which bodies may be left out', async () => {
    const doc = (await server.shinrai.server.inject({ url: '/api/openapi.json' })).json() as JsonBody;
    expect(doc.paths['/api/v1/incidents/{ref}/postmortem'].post.requestBody.required).toBe(false);
    expect(doc.paths['/api/v1/slos/{id}/backtest'].post.requestBody.required).toBe(false);
    expect(doc.paths['/api/v1/incidents'].post.requestBody.required).toBe(true);
  });

  it('still refuses bodies that are not empty and not an object', async () => {
    const url = '/api/v1/incidents/INC-1/postmortem';
    const headers = { authorization: `Bearer ${editor}`, 'content-type': 'application/json' };
    const broken = await server.shinrai.server.inject({ method: 'POST', url, headers, payload: '{' });
    expect(broken.statusCode).toBe(400);
    expect(broken.headers['content-type']).toContain('application/problem+json');
    const array = await server.shinrai.server.inject({ method: 'POST', url, headers, payload: '[]' });
    expect(array.statusCode).toBe(400);
    expect((array.json() as JsonBody).detail).toContain('expected object');
    const poisoned = await server.shinrai.server.inject({
      method: 'POST',
      url,
      headers,
      payload: '{"__proto__": {"polluted": true}}',
    });
    expect(poisoned.statusCode).toBe(400);
    expect(({} as JsonBody).polluted).toBeUndefined();
    const huge = await server.shinrai.server.inject({
      method: 'POST',
      url,
      headers,
      payload: JSON.stringify({ alsoCovers: ['x'.repeat(100 * 1024)] }),
    });
    expect(huge.statusCode).toBe(413);
    expect(huge.headers['content-type']).toContain('application/problem+json');
    const unknown = await json(
      server.request('POST', url, { token: editor, body: { alsoCovers: [], extra: 1 } }),
    );
    expect(unknown.status).toBe(400);
  });
});
