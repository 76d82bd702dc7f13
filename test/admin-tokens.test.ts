/**
 * API tokens over HTTP (docs/api.md#managing-tokens-over-the-api), on both databases: admins only;
 * the secret is in the creation's answer and nowhere else (not the list, not the audit log, not the
 * database, which keeps its SHA-256); each create and revoke is audited; a revoked token is refused
 * on its next request; a team-scoped token is held to its team; bad bodies get problem+json.
 * Also GET /api/v1/teams, the teams the Admin page offers.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from './support/databases.js';
import { type JsonBody, json, startTestServer, type TestServer } from './support/server.js';

const PROBLEM = /^application\/problem\+json/;
const risk = (service: string) => ({ service, ettd: '5m', ettr: '30m', impact: '10%', ettf: '1Y' });

describe.each(DIALECTS)('token administration on %s', (dialect) => {
  let server: TestServer;
  let admin: string;
  let editor: string;
  let viewer: string;

  const tokens = (token = admin) => json(server.request('GET', '/api/v1/auth/tokens', { token }));
  const create = (body: unknown, token = admin) =>
    server.request('POST', '/api/v1/auth/tokens', { token, body });
  const revoke = (name: string, token = admin) =>
    server.request('DELETE', `/api/v1/auth/tokens/${encodeURIComponent(name)}`, { token });
  const audit = async (action: string) =>
    (await json(server.request('GET', `/api/v1/audit?action=${action}`, { token: admin }))).events;

  beforeAll(async () => {
    server = await startTestServer(dialect, { specs: 'examples/shop' });
    admin = await server.token('admin');
    editor = await server.token('editor');
    viewer = await server.token('viewer');
  }, 60_000);

  afterAll(async () => {
    await server?.close();
  });

  it('lets only admins list, create and revoke tokens (editor and viewer 403, no token 401)', async () => {
    for (const [token, status] of [
      [editor, 403],
      [viewer, 403],
      [undefined, 401],
    ] as const) {
      // Not the helpers: their default token is the admin's.
      const answers = [
        await server.request('GET', '/api/v1/auth/tokens', { token }),
        await server.request('POST', '/api/v1/auth/tokens', {
          token,
          body: { name: 'sneaky', role: 'admin' },
        }),
        await server.request('DELETE', '/api/v1/auth/tokens/admin-1', { token }),
      ];
      for (const answer of answers) {
        expect(answer.status).toBe(status);
        expect(answer.headers.get('content-type')).toMatch(PROBLEM);
      }
    }
    expect((await tokens()).map((t: JsonBody) => t.name)).not.toContain('sneaky');
  });

  it('shows the secret once, keeps only its hash, audits the creation without it, and the token works', async () => {
    const answer = await create({ name: 'grafana', role: 'viewer' });
    expect(answer.status).toBe(201);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    const created: JsonBody = await answer.json();
    expect(created).toMatchObject({ name: 'grafana', role: 'viewer', lastUsedAt: null, revokedAt: null });
    expect(created.token).toMatch(/^shr_[a-z0-9]{12}_/);
    expect(created.teams).toBeUndefined();

    const listed = (await tokens()).find((t: JsonBody) => t.name === 'grafana');
    expect(listed).toEqual({ ...created, token: undefined });
    const listText = await (await server.request('GET', '/api/v1/auth/tokens', { token: admin })).text();
    const digest = createHash('sha256').update(created.token).digest('hex');
    expect(listText).not.toContain(created.token);
    expect(listText).not.toContain(digest);
    expect(listText).not.toMatch(/hash/i);

    const rows = await sql<{
      token_hash: string;
    }>`SELECT token_hash FROM api_tokens WHERE name = 'grafana'`.execute(server.shinrai.ctx.db.kysely);
    expect(rows.rows).toEqual([{ token_hash: digest }]);

    const events = await audit('token.create');
    const event = events.find((e: JsonBody) => e.target.id === created.id);
    expect(event).toMatchObject({
      actor: 'admin-1',
      changes: { after: { name: 'grafana', role: 'viewer' } },
    });
    expect(event.credential).toMatch(/^token:/);
    const auditText = JSON.stringify(events);
    expect(auditText).not.toContain(created.token);
    expect(auditText).not.toContain(digest);

    const who = await json(server.request('GET', '/api/v1/whoami', { token: created.token }));
    expect(who).toMatchObject({ name: 'grafana', role: 'viewer' });
    // A viewer reads but may not write.
    expect(
      (await server.request('PUT', '/api/v1/risks/r', { token: created.token, body: risk('checkout') }))
        .status,
    ).toBe(403);
  });

  it("holds a team-scoped token to its team's services", async () => {
    const created = await json(
      create({ name: 'payments-ci', role: 'editor', teams: ['team-payments', 'team-payments'] }),
    );
    expect(created.teams).toEqual(['team-payments']);
    const own = await server.request('PUT', '/api/v1/risks/payments-own', {
      token: created.token,
      body: risk('checkout'),
    });
    expect(own.status).toBe(201);
    const other = await server.request('PUT', '/api/v1/risks/search-other', {
      token: created.token,
      body: risk('search'),
    });
    expect(other.status).toBe(403);
    expect(other.headers.get('content-type')).toMatch(PROBLEM);
    expect(((await other.json()) as JsonBody).detail).toMatch(/team-discovery/);
    const after = (await audit('token.create')).find((e: JsonBody) => e.target.id === created.id);
    expect(after.changes.after).toEqual({ name: 'payments-ci', role: 'editor', teams: ['team-payments'] });
  });

  it('refuses a revoked token on its next request and audits the revocation', async () => {
    const created = await json(create({ name: 'ci', role: 'editor' }));
    expect((await server.request('GET', '/api/v1/whoami', { token: created.token })).status).toBe(200);
    const answer = await revoke('ci');
    expect(answer.status).toBe(204);
    const refused = await server.request('GET', '/api/v1/slos', { token: created.token });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('content-type')).toMatch(PROBLEM);
    expect((await tokens()).find((t: JsonBody) => t.name === 'ci').revokedAt).not.toBeNull();
    const event = (await audit('token.revoke')).find((e: JsonBody) => e.target.id === created.id);
    expect(event).toMatchObject({ changes: { before: { revokedAt: null } } });
    // Again: nothing active by that name any more.
    const again = await revoke('ci');
    expect(again.status).toBe(404);
    expect(again.headers.get('content-type')).toMatch(PROBLEM);
  });

  it('revokes by id too, and refuses to revoke the token the request is made with (409)', async () => {
    const other = await json(create({ name: 'other-admin', role: 'admin' }));
    const own = await revoke('other-admin', other.token);
    expect(own.status).toBe(409);
    expect(own.headers.get('content-type')).toMatch(PROBLEM);
    expect(((await own.json()) as JsonBody).detail).toMatch(/another admin token|shinrai token revoke/);
    expect((await revoke(other.id, other.token)).status).toBe(409);
    // Still works: nothing was revoked.
    expect((await server.request('GET', '/api/v1/auth/tokens', { token: other.token })).status).toBe(200);
    expect((await revoke(other.id)).status).toBe(204);
    expect((await server.request('GET', '/api/v1/auth/tokens', { token: other.token })).status).toBe(401);
  });

  it('answers bad bodies with 400 problem+json naming what is wrong, and a taken name with 409', async () => {
    const bad: [unknown, RegExp][] = [
      [{ role: 'viewer' }, /name/],
      [{ name: 'x' }, /role/],
      [{ name: 'x', role: 'root' }, /role/],
      [{ name: 'has space', role: 'viewer' }, /name/],
      [{ name: '', role: 'viewer' }, /name/],
      [{ name: 'x', role: 'viewer', teams: 'team-payments' }, /teams/],
      [{ name: 'x', role: 'viewer', teams: ['bad team'] }, /team/],
      [
        { name: 'x', role: 'viewer', expiresAt: '2030-01-01T00:00:00Z' },
        /expiresAt|unrecognized|additional/i,
      ],
      ['not json', /./],
    ];
    for (const [body, detail] of bad) {
      const answer = await create(body);
      expect({ body, status: answer.status }).toEqual({ body, status: 400 });
      expect(answer.headers.get('content-type')).toMatch(PROBLEM);
      const problem = await answer.json();
      expect(JSON.stringify(problem)).toMatch(detail);
    }
    expect((await create({ name: 'dup', role: 'viewer' })).status).toBe(201);
    const taken = await create({ name: 'dup', role: 'editor' });
    expect(taken.status).toBe(409);
    expect(taken.headers.get('content-type')).toMatch(PROBLEM);
    expect((await tokens()).filter((t: JsonBody) => t.name === 'x')).toEqual([]);
  });

  it('answers fuzzed bodies with 201 or a problem, never 5xx, and a 201 always carries a working token', async () => {
    const name = fc.oneof(fc.string({ maxLength: 70 }), fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/));
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.record(
            {
              name,
              role: fc.oneof(fc.constantFrom('viewer', 'editor', 'admin'), fc.string({ maxLength: 8 })),
              teams: fc.oneof(fc.array(name, { maxLength: 3 }), fc.jsonValue()),
            },
            { requiredKeys: [] },
          ),
          fc.jsonValue(),
        ),
        async (body) => {
          const answer = await create(body);
          expect(answer.status, JSON.stringify(body)).toBeLessThan(500);
          if (answer.status >= 400) {
            expect(answer.headers.get('content-type')).toMatch(PROBLEM);
            return;
          }
          expect(answer.status).toBe(201);
          const created: JsonBody = await answer.json();
          expect((await server.request('GET', '/api/v1/whoami', { token: created.token })).status).toBe(200);
          expect((await revoke(created.id)).status).toBe(204);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('lists the teams from the specs and the config with their services, to every reader', async () => {
    const teams = await json(server.request('GET', '/api/v1/teams', { token: viewer }));
    expect(teams).toEqual([
      { team: 'team-discovery', services: ['search'] },
      { team: 'team-identity', services: ['login'] },
      { team: 'team-payments', services: ['checkout'] },
    ]);
    expect((await server.request('GET', '/api/v1/teams')).status).toBe(401);
  });
});

describe('GET /api/v1/teams with teams in the config', () => {
  it('adds configured teams, with their services, to the owners of the specs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'shinrai-teams-'));
    const configFile = join(dir, 'shinrai.yaml');
    await writeFile(configFile, 'teams:\n  team-payments: { services: [payments-api] }\n  team-sre: {}\n');
    const server = await startTestServer('sqlite', { specs: 'examples/shop', configFile });
    try {
      const teams = await json(
        server.request('GET', '/api/v1/teams', { token: await server.token('viewer') }),
      );
      expect(teams).toEqual([
        { team: 'team-discovery', services: ['search'] },
        { team: 'team-identity', services: ['login'] },
        { team: 'team-payments', services: ['checkout', 'payments-api'] },
        { team: 'team-sre', services: [] },
      ]);
    } finally {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
