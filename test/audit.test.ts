/**
 * The audit log on SQLite and PostgreSQL, one server per database: representative writes (incident
 * create/update/resolve, risk create/update/delete, silence create/delete, spec upload, token
 * create/revoke from the CLI) each leave one event with who, which credential, what changed and
 * from where; failed writes leave none; a write whose event cannot be stored is not kept either;
 * GET /api/v1/audit filters, pages and exports NDJSON for admins only; no secret used in the
 * writes appears anywhere in the table or the export. Plus: every write route of the server is in
 * docs/audit.md's table, audited or exempt with its reason.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditRetentionRules, cliActor, recordAudit } from '../src/platform/audit/index.js';
import { createToken, revokeToken } from '../src/platform/auth/index.js';
import { loadConfig } from '../src/platform/config.js';
import { undocumentedWrites, writeRoutes } from './support/audit-routes.js';
import { DIALECTS } from './support/databases.js';
import { type JsonBody, json, startTestServer, type TestServer } from './support/server.js';
import { ratioSloYaml } from './support/specs.js';

const SIGNED_RUNBOOK = 'https://runbooks.example.com/checkout?signature=runbook-s3cr3t-sig';

describe.each(DIALECTS)('audit log on %s', (dialect) => {
  let dir: string;
  let server: TestServer;
  let admin: string;
  let editor: string;
  let viewer: string;
  /** Every secret the writes below used: none may appear in the audit table or its export. */
  const secrets: string[] = [];

  const audit = async (query = ''): Promise<JsonBody[]> =>
    (await json(server.request('GET', `/api/v1/audit?limit=500${query}`, { token: admin }))).events;
  const count = async () => (await audit()).length;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shinrai-audit-'));
    await writeFile(join(dir, 'slo.yaml'), ratioSloYaml('checkout-availability', { service: 'checkout' }));
    // The test client is the trusted proxy: X-Forwarded-For names the client when sent.
    server = await startTestServer(dialect, { specs: dir, config: { 'server.trustProxy': '127.0.0.1' } });
    admin = await server.token('admin');
    editor = await server.token('editor');
    viewer = await server.token('viewer');
    for (const token of [admin, editor, viewer])
      secrets.push(token, createHash('sha256').update(token).digest('hex'));
    secrets.push('runbook-s3cr3t-sig');
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('records incident create, update and resolve with who, which credential, the changed fields and the address', async () => {
    const created = await server.request('POST', '/api/v1/incidents', {
      token: editor,
      body: {
        title: 'Checkout errors',
        severity: 'SEV3',
        services: ['checkout'],
        runbooks: [SIGNED_RUNBOOK],
        summary: `pasted by mistake: Authorization: Bearer ${editor}`,
      },
    });
    expect(created.status).toBe(201);
    const ref = (await json(created)).reference;
    const changed = await server.request('PATCH', `/api/v1/incidents/${ref}`, {
      token: editor,
      body: { severity: 'SEV2', status: 'identified' },
      headers: { 'x-forwarded-for': '203.0.113.7' },
    });
    expect(changed.status).toBe(200);
    const requestId = changed.headers.get('x-request-id');
    expect(
      (
        await server.request('PATCH', `/api/v1/incidents/${ref}`, {
          token: admin,
          body: { status: 'resolved', rootCause: 'dns' },
        })
      ).status,
    ).toBe(200);

    const events = await audit(`&targetType=incident&targetId=${ref}`);
    expect(events.map((e: JsonBody) => e.action)).toEqual([
      'incident.resolve',
      'incident.update',
      'incident.create',
    ]);
    const [resolve, update, create] = events;
    expect(create).toMatchObject({
      actor: 'editor-2',
      role: 'editor',
      target: { type: 'incident', id: ref },
      clientAddress: '127.0.0.1',
      changes: { before: { title: null }, after: { title: 'Checkout errors', severity: 'SEV3' } },
    });
    expect(create.credential).toMatch(/^token:[a-z0-9]{12}$/);
    expect(create.changes.after.runbooks).toEqual(['https://runbooks.example.com/checkout?redacted']);
    expect(create.changes.after.summary).toBe('pasted by mistake: Authorization: Bearer [redacted]');
    // Only what changed: the title stayed, so it is in neither side.
    expect(update.changes.before).toMatchObject({ severity: 'SEV3', status: 'investigating' });
    expect(update.changes.after).toMatchObject({ severity: 'SEV2', status: 'identified' });
    expect(update.changes.after).not.toHaveProperty('title');
    // Behind the trusted proxy (server.trustProxy), the address is the client's it forwarded.
    expect(update.clientAddress).toBe('203.0.113.7');
    if (requestId) expect(update.requestId).toBe(requestId);
    else expect(update.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(resolve).toMatchObject({
      actor: 'admin-1',
      role: 'admin',
      changes: {
        before: { status: 'identified', rootCause: null },
        after: { status: 'resolved', rootCause: 'dns' },
      },
    });
    expect(Date.parse(resolve.at)).toBeGreaterThanOrEqual(Date.parse(create.at));
  });

  it('records a note and a starred timeline event', async () => {
    const ref = (
      await json(
        server.request('POST', '/api/v1/incidents', {
          token: editor,
          body: { title: 'Notes', severity: 'SEV4' },
        }),
      )
    ).reference;
    const note = await json(
      server.request('POST', `/api/v1/incidents/${ref}/notes`, {
        token: editor,
        body: { text: 'rolled back' },
      }),
    );
    await server.request('PATCH', `/api/v1/incidents/${ref}/events/${note.id}`, {
      token: editor,
      body: { starred: true },
    });
    const [starred] = await audit('&targetType=incident-event');
    const [added] = await audit(`&action=incident.note&targetId=${ref}`);
    expect(added.changes.after).toEqual({
      event: note.id,
      text: 'rolled back',
      starred: false,
      public: false,
    });
    expect(starred).toMatchObject({
      action: 'incident.event.update',
      target: { type: 'incident-event', id: `${ref}/${note.id}` },
      changes: { before: { starred: false }, after: { starred: true } },
    });
  });

  it('records nothing for a write that fails (a validation error, a conflict)', async () => {
    const before = await count();
    const invalid = await server.request('POST', '/api/v1/incidents', {
      token: editor,
      body: { title: 'x', severity: 'SEV9' },
    });
    expect(invalid.status).toBe(400);
    const ref = (
      await json(
        server.request('POST', '/api/v1/incidents', {
          token: editor,
          body: { title: 'y', severity: 'SEV4' },
        }),
      )
    ).reference;
    // An open incident cannot be closed before it is resolved: 409, nothing kept.
    const conflict = await server.request('PATCH', `/api/v1/incidents/${ref}`, {
      token: editor,
      body: { status: 'closed' },
    });
    expect(conflict.status).toBe(409);
    const badRisk = await server.request('PUT', '/api/v1/risks/bad-one', {
      token: editor,
      body: { service: 'checkout', ettd: 'soon', ettr: '30m', impact: 1, ettf: '30d' },
    });
    expect(badRisk.status).toBe(400);
    expect(await count()).toBe(before + 1);
    expect((await audit(`&targetId=${ref}`)).map((e: JsonBody) => e.action)).toEqual(['incident.create']);
  });

  it('records risk create, update and delete with the changed spec fields', async () => {
    const body = { service: 'checkout', ettd: '5m', ettr: '30m', impact: 1, ettf: '90d' };
    expect((await server.request('PUT', '/api/v1/risks/db-failover', { token: editor, body })).status).toBe(
      201,
    );
    expect(
      (await server.request('PATCH', '/api/v1/risks/db-failover', { token: editor, body: { ettr: '10m' } }))
        .status,
    ).toBe(200);
    expect((await server.request('DELETE', '/api/v1/risks/db-failover', { token: admin })).status).toBe(204);
    const events = await audit('&action=risk.&targetId=db-failover');
    expect(events.map((e: JsonBody) => [e.action, e.changes])).toEqual([
      [
        'risk.delete',
        {
          before: { service: 'checkout', ettd: '5m', ettr: '10m', impact: 1, ettf: '90d' },
          after: expect.objectContaining({ service: null }),
        },
      ],
      ['risk.update', { before: { ettr: '30m' }, after: { ettr: '10m' } }],
      ['risk.create', { before: expect.objectContaining({ ettd: null }), after: body }],
    ]);
    expect(events[0].actor).toBe('admin-1');
  });

  it('records silence create and delete, and a spec upload as digests per file', async () => {
    const silence = await json(
      server.request('POST', '/api/v1/silences', {
        token: editor,
        body: {
          matchers: [{ label: 'service', value: 'checkout' }],
          endsAt: new Date(Date.now() + 3_600_000).toISOString(),
          comment: 'deploy window',
        },
      }),
    );
    expect((await server.request('DELETE', `/api/v1/silences/${silence.id}`, { token: editor })).status).toBe(
      204,
    );
    expect((await server.request('DELETE', `/api/v1/silences/${silence.id}`, { token: editor })).status).toBe(
      404,
    );
    const silenceEvents = await audit(`&targetType=silence&targetId=${silence.id}`);
    expect(silenceEvents.map((e: JsonBody) => e.action)).toEqual(['silence.delete', 'silence.create']);
    expect(silenceEvents[1].changes.after).toMatchObject({
      comment: 'deploy window',
      matchers: [{ label: 'service', value: 'checkout' }],
    });

    const yaml = ratioSloYaml('search-latency', { service: 'search' });
    const upload = await server.request('PUT', '/api/v1/specs', {
      token: editor,
      body: { files: [{ path: 'search.yaml', content: yaml }] },
    });
    expect(upload.status).toBe(200);
    const [spec] = await audit('&action=spec.upload');
    expect(spec).toMatchObject({ target: { type: 'specs', id: 'uploaded' }, actor: 'editor-2' });
    expect(spec.changes).toEqual({
      before: { 'search.yaml': null },
      after: {
        'search.yaml': `sha256:${createHash('sha256').update(yaml).digest('hex').slice(0, 16)} (${Buffer.byteLength(yaml)} bytes)`,
      },
    });
  });

  it('records postmortems, action items, gate overrides and deployments (a replay that changes nothing: no event)', async () => {
    const ref = (
      await json(
        server.request('POST', '/api/v1/incidents', {
          token: editor,
          body: { title: 'Gate', severity: 'SEV3' },
        }),
      )
    ).reference;
    const postmortem = await json(
      server.request('POST', `/api/v1/incidents/${ref}/postmortem`, { token: editor }),
    );
    await server.request('PATCH', `/api/v1/postmortems/${postmortem.id}`, {
      token: editor,
      body: { markdown: '# What happened' },
    });
    const item = await json(
      server.request('POST', `/api/v1/postmortems/${postmortem.id}/action-items`, {
        token: editor,
        body: { title: 'Add a runbook', category: 'repair', priority: 'P1' },
      }),
    );
    await server.request('PATCH', `/api/v1/action-items/${item.id}`, {
      token: editor,
      body: { status: 'done' },
    });
    const override = await json(
      server.request('POST', '/api/v1/gate/overrides', {
        token: admin,
        body: { service: 'checkout', reason: 'hotfix for the gate test', expiresIn: '2h' },
      }),
    );
    await server.request('DELETE', `/api/v1/gate/overrides/${override.id}`, { token: admin });
    const deployment = {
      id: 'deploy-audit-1',
      service: 'checkout',
      environment: 'production',
      finishedAt: new Date().toISOString(),
      status: 'success',
    };
    expect(
      (await server.request('POST', '/api/v1/deployments', { token: editor, body: deployment })).status,
    ).toBe(201);
    expect(
      (await server.request('POST', '/api/v1/deployments', { token: editor, body: deployment })).status,
    ).toBe(200);
    const batch = await server.request('POST', '/api/v1/deployments/batch', {
      token: editor,
      body: {
        deployments: [
          deployment,
          { ...deployment, id: 'deploy-audit-2' },
          { ...deployment, id: 'deploy-audit-3' },
        ],
      },
    });
    expect(batch.status).toBe(200);

    const [pmUpdate, pmCreate] = await audit(`&targetType=postmortem&targetId=${postmortem.id}`);
    expect([pmCreate.action, pmUpdate.action]).toEqual(['postmortem.create', 'postmortem.update']);
    expect(pmUpdate.changes.after.markdown).toMatch(/^sha256:[0-9a-f]{16} \(15 chars\)$/);
    expect(
      (await audit(`&targetId=${item.id}`)).map((e: JsonBody) => [e.action, e.changes.after.status]),
    ).toEqual([
      ['action-item.update', 'done'],
      ['action-item.create', 'open'],
    ]);
    expect(
      (await audit(`&action=gate.override&targetId=${override.id}`)).map((e: JsonBody) => e.action),
    ).toEqual(['gate.override.revoke', 'gate.override.create']);
    const deployments = await audit('&action=deployment.record');
    expect(deployments.map((e: JsonBody) => [e.target, e.changes.after])).toEqual([
      [
        { type: 'deployment-batch', id: '2 deployments' },
        { created: ['deploy-audit-2', 'deploy-audit-3'], updated: [] },
      ],
      [
        { type: 'deployment', id: 'deploy-audit-1' },
        expect.objectContaining({ outcome: 'created', service: 'checkout', status: 'success' }),
      ],
    ]);
  });

  it('records token create and revoke from the CLI with the OS user, never the token', async () => {
    const user = cliActor();
    const { token, info } = await createToken(
      server.shinrai.ctx,
      { name: 'ci-deployer', role: 'editor' },
      user,
    );
    secrets.push(token, createHash('sha256').update(token).digest('hex'));
    await revokeToken(server.shinrai.ctx, 'ci-deployer', user);
    const events = await audit(`&targetType=token&targetId=${info.id}`);
    expect(events.map((e: JsonBody) => [e.action, e.actor, e.credential, e.role])).toEqual([
      ['token.revoke', user.actor, `cli:${user.actor}`, null],
      ['token.create', user.actor, `cli:${user.actor}`, null],
    ]);
    expect(events[1].changes.after).toEqual({ name: 'ci-deployer', role: 'editor' });
    // A failed revoke (no such active token) leaves nothing.
    const before = await count();
    await expect(revokeToken(server.shinrai.ctx, 'ci-deployer', user)).rejects.toThrow(/no active token/);
    expect(await count()).toBe(before);
  });

  it('filters by actor, action prefix, target and time, and pages with a cursor', async () => {
    const all = await audit();
    expect(all.length).toBeGreaterThan(6);
    const ids = all.map((e: JsonBody) => e.id);
    expect(ids).toEqual([...ids].sort().reverse());
    const byAdmin = await audit('&actor=admin-1');
    expect(byAdmin.length).toBeGreaterThan(0);
    expect(byAdmin.every((e: JsonBody) => e.actor === 'admin-1')).toBe(true);
    const incidents = await audit('&action=incident');
    expect(incidents.length).toBeGreaterThan(0);
    expect(incidents.every((e: JsonBody) => e.action.startsWith('incident.'))).toBe(true);
    // LIKE wildcards in the prefix are plain characters.
    expect(await audit('&action=%25')).toEqual([]);
    const pages: JsonBody[] = [];
    let cursor: string | null = '';
    while (cursor !== null) {
      const page: JsonBody = await json(
        server.request('GET', `/api/v1/audit?limit=3${cursor ? `&cursor=${cursor}` : ''}`, { token: admin }),
      );
      expect(page.events.length).toBeLessThanOrEqual(3);
      pages.push(...page.events);
      cursor = page.nextCursor;
    }
    expect(pages.map((e) => e.id)).toEqual(ids);
    const oldest = all.at(-1);
    expect(await audit(`&until=${encodeURIComponent(oldest.at)}`)).toEqual([]);
    expect((await audit(`&since=${encodeURIComponent(oldest.at)}`)).length).toBe(all.length);
    expect(
      await audit(`&since=${encodeURIComponent(new Date(Date.now() + 86_400_000).toISOString())}`),
    ).toEqual([]);
  });

  it('exports NDJSON (Accept or format=ndjson) with the same events', async () => {
    const all = await audit();
    const byAccept = await server.request('GET', '/api/v1/audit?action=incident', {
      token: admin,
      headers: { accept: 'application/x-ndjson' },
    });
    expect(byAccept.status).toBe(200);
    expect(byAccept.headers.get('content-type')).toContain('application/x-ndjson');
    const lines = (await byAccept.text())
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toEqual(all.filter((e: JsonBody) => e.action.startsWith('incident.')));
    const byQuery = await server.request('GET', '/api/v1/audit?format=ndjson', { token: admin });
    expect(byQuery.headers.get('content-type')).toContain('application/x-ndjson');
    expect((await byQuery.text()).trimEnd().split('\n')).toHaveLength(all.length);
  });

  it('answers 403 to editors and viewers, 401 without a token, and problem+json for bad filters', async () => {
    for (const token of [editor, viewer]) {
      const refused = await server.request('GET', '/api/v1/audit', { token });
      expect(refused.status).toBe(403);
      expect(refused.headers.get('content-type')).toContain('application/problem+json');
    }
    expect((await server.request('GET', '/api/v1/audit')).status).toBe(401);
    for (const query of [
      'since=yesterday',
      'limit=501',
      'limit=0',
      'since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z',
      'format=xml',
    ]) {
      const bad = await server.request('GET', `/api/v1/audit?${query}`, { token: admin });
      expect([query, bad.status]).toEqual([query, 400]);
      expect(bad.headers.get('content-type')).toContain('application/problem+json');
    }
  });

  it('keeps no secret used above anywhere in the table or the export', async () => {
    const rows = await server.shinrai.ctx.db.kysely.selectFrom('audit_events').selectAll().execute();
    const table = JSON.stringify(rows);
    const exported = await (
      await server.request('GET', '/api/v1/audit?format=ndjson', { token: admin })
    ).text();
    expect(rows.length).toBeGreaterThan(10);
    for (const secret of secrets) {
      expect(table.includes(secret)).toBe(false);
      expect(exported.includes(secret)).toBe(false);
    }
  });

  it('fails the write when its event cannot be stored, keeping neither', async () => {
    const kysely = server.shinrai.ctx.db.kysely;
    const incidents = async () =>
      (await json(server.request('GET', '/api/v1/incidents', { token: admin }))).length;
    const before = await incidents();
    await sql`ALTER TABLE audit_events RENAME TO audit_events_away`.execute(kysely);
    try {
      const failed = await server.request('POST', '/api/v1/incidents', {
        token: editor,
        body: { title: 'never kept', severity: 'SEV4' },
      });
      expect(failed.status).toBe(500);
      expect(await incidents()).toBe(before);
    } finally {
      await sql`ALTER TABLE audit_events_away RENAME TO audit_events`.execute(kysely);
    }
    expect(
      (await audit('&action=incident.create')).some((e: JsonBody) => e.changes.after.title === 'never kept'),
    ).toBe(false);
  });

  it('deletes events older than retention.auditDays in batches, keeping the rest', async () => {
    const db = server.shinrai.ctx.db;
    const nowMs = Date.now();
    const dayMs = 86_400_000;
    const scope = cliActor();
    await db.kysely.transaction().execute(async (trx) => {
      for (const ageDays of [500, 450, 401, 399])
        await recordAudit(trx, scope, {
          action: 'test.old',
          targetType: 'test',
          targetId: `aged-${ageDays}`,
          after: { ageDays },
          atMs: nowMs - ageDays * dayMs,
        });
    });
    const settings = loadConfig({ flags: {} }).retention;
    expect(settings.auditDays).toBe(400);
    expect(auditRetentionRules({ ...settings, auditDays: 0 }, nowMs)).toEqual([]);
    let deleted = 0;
    for (const rule of auditRetentionRules(settings, nowMs))
      await rule.apply({
        db,
        nowMs,
        batchRows: 2,
        pause: async () => true,
        count: (_table, rows) => {
          deleted += rows;
        },
      });
    expect(deleted).toBe(3);
    expect((await audit('&action=test.old')).map((e: JsonBody) => e.target.id)).toEqual(['aged-399']);
  });

  // The route inventory does not depend on the database: checked once.
  if (dialect === 'sqlite')
    it('lists every write route of the server in docs/audit.md, audited or exempt with a reason', async () => {
      const writes = writeRoutes(server.shinrai.server);
      expect(writes.length).toBeGreaterThan(25);
      expect(await undocumentedWrites(writes)).toEqual([]);
    });
});
