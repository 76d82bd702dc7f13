/** GET /api/v1/whoami on both databases: the token's name and role, null for an anonymous reader, 401 when reads need a token. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from './support/databases.js';
import { type JsonBody, startTestServer, type TestServer } from './support/server.js';

describe.each(DIALECTS)('GET /api/v1/whoami on %s', (dialect) => {
  let open: TestServer;
  let closed: TestServer;

  beforeAll(async () => {
    [open, closed] = await Promise.all([
      startTestServer(dialect, { anonymousRead: true }),
      startTestServer(dialect, { anonymousRead: false }),
    ]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([open?.close(), closed?.close()]);
  });

  it('names each role of the token it is asked with', async () => {
    for (const role of ['viewer', 'editor', 'admin'] as const) {
      const response = await open.request('GET', '/api/v1/whoami', { token: await open.token(role) });
      expect(response.status).toBe(200);
      const body = (await response.json()) as JsonBody;
      expect(body.role).toBe(role);
      expect(typeof body.name).toBe('string');
    }
  });

  it('answers nulls to an anonymous reader, and 401 where reads need a token', async () => {
    const anonymous = await open.request('GET', '/api/v1/whoami');
    expect(anonymous.status).toBe(200);
    expect(await anonymous.json()).toEqual({ name: null, role: null });
    const refused = await closed.request('GET', '/api/v1/whoami');
    expect(refused.status).toBe(401);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });
});
