/**
 * Incidents through the API on both databases: declaration with references, roles (viewers
 * cannot write), the status lifecycle and milestone order, the timeline, and the error budget an
 * incident consumed, equal to the engine's figure for the same interval.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/testing.js';
import { minuteStamp, upsertBuckets } from '../src/slo/ingest/service.js';
import { DIALECTS } from './support/databases.js';
import { type JsonBody, json, ManualClock, startTestServer, type TestServer } from './support/server.js';
import { ratioSloYaml } from './support/specs.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 9, 1, 12, 0);

describe.each(DIALECTS)('incidents on %s', (dialect) => {
  let dir: string;
  let server: TestServer;
  let editor: string;
  let viewer: string;
  const clock = new ManualClock(T0);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shinrai-incidents-'));
    await writeFile(
      join(dir, 'slo.yaml'),
      ratioSloYaml('api', { target: 0.999, window: '30d', service: 'shop' }),
    );
    server = await startTestServer(dialect, { specs: dir, clock });
    editor = await server.token('editor');
    viewer = await server.token('viewer');
    // Two days of 1,000 requests a minute; 10 minutes at 50% errors from T0 − 30 min.
    const db = server.shinrai.ctx.db;
    const rows = Array.from({ length: 2 * 1440 }, (_, i) => {
      const minuteMs = T0 - 2 * 1440 * MIN + i * MIN;
      const bad = minuteMs >= T0 - 30 * MIN && minuteMs < T0 - 20 * MIN ? 500 : 0;
      return { storageKey: 'api-requests', minuteMs, good: 1000 - bad, total: 1000 };
    });
    await upsertBuckets(db.kysely, rows, minuteStamp(db, T0));
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const declare = (body: unknown, token = editor) =>
    server.request('POST', '/api/v1/incidents', { token, body });

  it('declares incidents with increasing references; viewers read but cannot write', async () => {
    const first = await declare({
      title: 'Checkout errors',
      severity: 'SEV2',
      services: ['shop'],
      slos: ['api'],
    });
    expect(first.status).toBe(201);
    expect(await first.json()).toMatchObject({
      reference: 'INC-1',
      status: 'investigating',
      severity: 'SEV2',
      milestones: { detectedAt: new Date(T0).toISOString() },
    });
    expect((await json(declare({ title: 'A drill', severity: 'SEV4', drill: true }))).reference).toBe(
      'INC-2',
    );
    expect((await declare({ title: 'nope', severity: 'SEV3' }, viewer)).status).toBe(403);
    const scriptLink = await declare({ title: 'x', severity: 'SEV3', runbooks: ['javascript:alert(1)'] });
    expect(scriptLink.status).toBe(400);
    expect(await scriptLink.text()).toContain('http(s)');
    const bad = await declare({ title: '', severity: 'SEV9' });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
    const list = await json(server.request('GET', '/api/v1/incidents', { token: viewer }));
    expect(list.map((i: JsonBody) => i.reference)).toEqual(['INC-2', 'INC-1']);
  });

  it('moves through the lifecycle, stamping milestones, and refuses moves and milestones out of order', async () => {
    clock.advance(5 * MIN);
    const identified = await json(
      server.request('PATCH', '/api/v1/incidents/INC-1', { token: editor, body: { status: 'identified' } }),
    );
    expect(identified.milestones.acknowledgedAt).toBe(new Date(T0 + 5 * MIN).toISOString());
    const early = await server.request('PATCH', '/api/v1/incidents/INC-1', {
      token: editor,
      body: { milestones: { mitigatedAt: new Date(T0 - 60 * MIN).toISOString() } },
    });
    expect(early.status).toBe(400);
    expect(((await early.json()) as JsonBody).errors[0].field).toBe('milestones.mitigatedAt');
    // Corrected afterwards: the burn began at T0 − 30 min, was seen at T0 − 25 and mitigated at T0 − 20.
    const corrected = await server.request('PATCH', '/api/v1/incidents/INC-1', {
      token: editor,
      body: {
        milestones: {
          impactStartedAt: new Date(T0 - 30 * MIN).toISOString(),
          detectedAt: new Date(T0 - 25 * MIN).toISOString(),
          acknowledgedAt: new Date(T0 - 24 * MIN).toISOString(),
          mitigatedAt: new Date(T0 - 20 * MIN).toISOString(),
        },
      },
    });
    expect(corrected.status).toBe(200);
    clock.advance(5 * MIN);
    await server.request('PATCH', '/api/v1/incidents/INC-1', { token: editor, body: { status: 'resolved' } });
    const closed = await json(
      server.request('PATCH', '/api/v1/incidents/INC-1', { token: editor, body: { status: 'closed' } }),
    );
    expect(closed.status).toBe('closed');
    const reopen = await server.request('PATCH', '/api/v1/incidents/INC-1', {
      token: editor,
      body: { status: 'investigating' },
    });
    expect(reopen.status).toBe(409);
    expect((await server.request('GET', '/api/v1/incidents/INC-99', { token: viewer })).status).toBe(404);
  });

  it('keeps every change and note on the timeline, with its source and actor', async () => {
    const note = await server.request('POST', '/api/v1/incidents/INC-1/notes', {
      token: editor,
      body: { text: 'Rolled back <b>v2.3</b>', starred: true, public: true },
    });
    expect(note.status).toBe(201);
    const incident = await json(server.request('GET', '/api/v1/incidents/INC-1', { token: viewer }));
    expect(incident.timeline.map((e: JsonBody) => e.kind)).toEqual([
      'declared',
      'status',
      'milestone',
      'milestone',
      'milestone',
      'milestone',
      'status',
      'status',
      'note',
    ]);
    expect(incident.timeline.at(-1)).toMatchObject({
      source: 'api',
      actor: expect.stringMatching(/^editor-/),
      starred: true,
      public: true,
      text: 'Rolled back <b>v2.3</b>',
    });
  });

  it('reports the error budget the incident consumed, as the engine computes it', async () => {
    const incident = await json(server.request('GET', '/api/v1/incidents/INC-1', { token: viewer }));
    // 10 minutes × 500 bad = 5,000 bad events, of a budget of 0.1% of the 2,860,000 events stored
    // up to the interval's end (two days of data but the last 20 minutes).
    expect(incident.budgetImpact).toEqual([
      {
        slo: 'api',
        from: new Date(T0 - 30 * MIN).toISOString(),
        to: new Date(T0 - 20 * MIN).toISOString(),
        unit: 'events',
        consumed: 5000,
        shareOfBudget: expect.closeTo(5000 / 2860, 9),
      },
    ]);
  });

  it('suggests when the impact began from the SLI, flags the postmortem, and reports response times', async () => {
    const incident = await json(server.request('GET', '/api/v1/incidents/INC-1', { token: viewer }));
    // The burn ran from T0 − 30 to T0 − 20 min; detection (corrected) was at T0 − 25.
    expect(incident.suggestedImpactStart).toEqual([
      { slo: 'api', impactStartedAt: new Date(T0 - 30 * MIN).toISOString() },
    ]);
    // 174% of the budget: far over the 20% that requires a postmortem.
    expect(incident.requiresPostmortem).toBe(true);
    expect(incident.catchUp).toMatch(/^INC-1 SEV2 — Checkout errors\nStatus: closed, /);
    expect(incident.catchUp).toContain('Key events:\n- ');
    expect(incident.catchUp).toContain('Rolled back <b>v2.3</b>');
    const metrics = await json(server.request('GET', '/api/v1/incidents/metrics', { token: viewer }));
    // INC-2 is a drill and does not count.
    expect(metrics).toMatchObject({
      incidents: 1,
      ttd: { count: 1, medianMinutes: 5, p90Minutes: 5 },
      tta: { count: 1, medianMinutes: 1 },
      ttm: { count: 1, medianMinutes: 10 },
      ttr: { count: 1, medianMinutes: 40 },
    });
    const none = await json(
      server.request('GET', '/api/v1/incidents/metrics?severity=SEV1', { token: viewer }),
    );
    expect(none.ttr).toEqual({ count: 0, medianMinutes: null, p90Minutes: null });
  });

  it('assigns roles and keeps every assignment on the timeline', async () => {
    const patch = (roles: Record<string, string | null>) =>
      json(server.request('PATCH', '/api/v1/incidents/INC-2', { token: editor, body: { roles } }));
    await patch({ commander: 'alice', scribe: 'bob', 'db-liaison': 'dana' });
    const after = await patch({ commander: 'carol', scribe: null });
    expect(after.roles).toEqual({ commander: 'carol', 'db-liaison': 'dana' });
    const incident = await json(server.request('GET', '/api/v1/incidents/INC-2', { token: viewer }));
    expect(incident.timeline.filter((e: JsonBody) => e.kind === 'role').map((e: JsonBody) => e.text)).toEqual(
      [
        'commander: alice',
        'scribe: bob',
        'db-liaison: dana',
        'commander: carol (was alice)',
        'scribe: bob stepped down',
      ],
    );
    const bad = await server.request('PATCH', '/api/v1/incidents/INC-2', {
      token: editor,
      body: { roles: { 'Not A Role': 'x' } },
    });
    expect(bad.status).toBe(400);
  });

  it('drafts a postmortem with the budget figures and starred timeline, reviews and publishes it', async () => {
    const created = await server.request('POST', '/api/v1/incidents/INC-1/postmortem', {
      token: editor,
      body: { alsoCovers: ['INC-2'] },
    });
    expect(created.status).toBe(201);
    const pm = (await created.json()) as JsonBody;
    expect(pm).toMatchObject({ status: 'draft', incidents: ['INC-1', 'INC-2'] });
    for (const section of [
      '## Summary',
      '## Impact',
      '## Root causes',
      '## Trigger',
      '## Resolution',
      '## Detection',
      '## Action items',
      '### What went well',
      '### What went wrong',
      '### Where we got lucky',
      '## Timeline',
      '## Supporting information',
    ])
      expect(pm.markdown).toContain(section);
    expect(pm.markdown).toContain('| api | 5000 events | 174.8% |');
    expect(pm.markdown).toContain('Rolled back <b>v2.3</b> (editor-');
    // The HTML is sanitised: the note's <b> is kept as formatting, nothing executable passes.
    expect(pm.html).toContain('<h2>Impact</h2>');

    const edit = (body: unknown) =>
      server.request('PATCH', `/api/v1/postmortems/${pm.id}`, { token: editor, body });
    const xss = await json(
      edit({
        markdown: `${pm.markdown}\n<script>alert(1)</script><img src=x onerror=alert(1)> [x](javascript:alert(1))`,
      }),
    );
    expect(xss.markdown).toContain('<script>');
    expect(xss.html).not.toMatch(/<script|<img|\sonerror\s*=|href="javascript:/i);
    expect((await edit({ status: 'published' })).status).toBe(409);
    expect((await json(edit({ status: 'in-review' }))).status).toBe('in-review');
    // INC-1 consumed 174.8% of the budget: publishing needs a P0 action item (a skipped one or a P1 does not count).
    const addItem = (body: unknown, token = editor) =>
      server.request('POST', `/api/v1/postmortems/${pm.id}/action-items`, { token, body });
    expect((await addItem({ title: 'Alert on 5xx', category: 'detect', priority: 'P1' })).status).toBe(201);
    clock.advance(1000); // items list in the order they were added
    expect(
      (await addItem({ title: 'Skip me', category: 'prevent', priority: 'P0', status: 'skipped' })).status,
    ).toBe(201);
    const blocked = await edit({ status: 'published' });
    expect(blocked.status).toBe(409);
    expect((await json(blocked)).detail).toMatch(
      /INC-1 consumed 174\.8% of api's error budget \(more than 20%\): add at least one P0 action item/,
    );
    clock.advance(1000);
    const p0 = await addItem({
      title: 'Canary | the <script>alert(1)</script> deploys',
      category: 'prevent',
      priority: 'P0',
      owner: 'payments-team',
      dueDate: '2026-10-15',
      ticketUrl: 'https://tracker.example/PAY-1',
    });
    expect(p0.status).toBe(201);
    expect((await json(edit({ status: 'published' }))).status).toBe('published');
    const published = await json(server.request('GET', `/api/v1/postmortems/${pm.id}`, { token: viewer }));
    expect(published.actionItems.map((i: JsonBody) => [i.priority, i.status])).toEqual([
      ['P1', 'open'],
      ['P0', 'skipped'],
      ['P0', 'open'],
    ]);
    // The rendered document shows the current items in its table, sanitised.
    expect(published.html).toContain('<td>payments-team</td>');
    expect(published.html).toContain('href="https://tracker.example/PAY-1"');
    expect(published.html).not.toMatch(/<script/i);
    clock.ms = T0;
    expect((await edit({ markdown: 'rewritten' })).status).toBe(409);
    expect(
      (
        await server.request('PATCH', `/api/v1/postmortems/${pm.id}`, {
          token: viewer,
          body: { status: 'draft' },
        })
      ).status,
    ).toBe(403);
    const list = await json(server.request('GET', '/api/v1/postmortems', { token: viewer }));
    expect(list.map((p: JsonBody) => p.id)).toContain(pm.id);
  });

  it('tracks action items: changes, closing stamps, filters and overdue in the team time zone', async () => {
    const [pm] = await json(server.request('GET', '/api/v1/postmortems', { token: viewer }));
    const created = await json(
      server.request('POST', `/api/v1/postmortems/${pm.id}/action-items`, {
        token: editor,
        body: {
          title: 'Runbook for failover',
          category: 'mitigate-future',
          priority: 'P2',
          dueDate: '2026-09-30',
        },
      }),
    );
    expect(created).toMatchObject({ status: 'open', overdue: true, postmortemId: pm.id });
    expect(created.closedAt).toBeUndefined();
    const patch = (id: string, body: unknown, token = editor) =>
      server.request('PATCH', `/api/v1/action-items/${id}`, { token, body });
    expect((await patch(created.id, { status: 'done' }, viewer)).status).toBe(403);
    const done = await json(patch(created.id, { status: 'done', owner: 'sre', dueDate: null }));
    expect(done).toMatchObject({
      status: 'done',
      owner: 'sre',
      overdue: false,
      closedAt: new Date(T0).toISOString(),
    });
    expect(done.dueDate).toBeUndefined();
    const reopened = await json(patch(created.id, { status: 'open' }));
    expect(reopened.closedAt).toBeUndefined();

    for (const [body, field] of [
      [{ ticketUrl: 'javascript:alert(1)' }, 'ticketUrl'],
      [{ dueDate: '2026-13-01' }, 'dueDate'],
      [{ priority: 'P3' }, 'priority'],
      [{ title: '' }, 'title'],
    ] as const) {
      const bad = await patch(created.id, body);
      expect(bad.status).toBe(400);
      expect(JSON.stringify(await bad.json())).toContain(field);
    }
    expect((await patch('no-such-item', { status: 'done' })).status).toBe(404);
    expect(
      (
        await server.request('POST', '/api/v1/postmortems/no-such-pm/action-items', {
          token: editor,
          body: { title: 'x', category: 'repair', priority: 'P0' },
        })
      ).status,
    ).toBe(404);

    const list = (query: string) =>
      json(server.request('GET', `/api/v1/action-items${query}`, { token: viewer })).then(
        (items: JsonBody[]) => items.map((i) => i.title),
      );
    // Today is 2026-10-01 (T0): the P0 due 2026-10-15 is not overdue yet.
    expect(await list('?overdue=true')).toEqual([]);
    expect(await list('?owner=payments-team')).toEqual(['Canary | the <script>alert(1)</script> deploys']);
    expect(await list('?status=skipped')).toEqual(['Skip me']);
    clock.advance(15 * 86_400_000);
    // Items without a due date are never overdue.
    expect(await list('?overdue=true')).toEqual(['Canary | the <script>alert(1)</script> deploys']);
    clock.ms = T0;
  });

  it('stars timeline events and marks them public; viewers cannot', async () => {
    const incident = await json(server.request('GET', '/api/v1/incidents/INC-2', { token: viewer }));
    const event = incident.timeline[0];
    const mark = (body: unknown, token = editor) =>
      server.request('PATCH', `/api/v1/incidents/INC-2/events/${event.id}`, { token, body });
    expect((await mark({ starred: true }, viewer)).status).toBe(403);
    expect(await json(mark({ starred: true }))).toMatchObject({ id: event.id, starred: true, public: false });
    expect(await json(mark({ public: true }))).toMatchObject({ starred: true, public: true });
    const after = await json(server.request('GET', '/api/v1/incidents/INC-2', { token: viewer }));
    expect(after.timeline[0]).toMatchObject({ id: event.id, starred: true, public: true, text: event.text });
    expect(after.timeline).toHaveLength(incident.timeline.length);
    expect(
      (
        await server.request('PATCH', `/api/v1/incidents/INC-1/events/${event.id}`, {
          token: editor,
          body: { starred: true },
        })
      ).status,
    ).toBe(404);
  });

  it('works from the CLI through the API', async () => {
    const url = server.shinrai.url;
    const declared = await runCli([
      'incident',
      'declare',
      '--title',
      'From the CLI',
      '--severity',
      'SEV3',
      '--service',
      'shop',
      '--server',
      url,
      '--token',
      editor,
    ]);
    expect(declared).toMatchObject({ code: 0, stdout: 'INC-3\n' });
    const updated = await runCli([
      'incident',
      'update',
      'INC-3',
      '--status',
      'identified',
      '--server',
      url,
      '--token',
      editor,
    ]);
    expect(updated.stdout).toBe('INC-3 SEV3 identified\n');
    expect(
      (
        await runCli([
          'incident',
          'note',
          'INC-3',
          'Paged the DB team',
          '--star',
          '--server',
          url,
          '--token',
          editor,
        ])
      ).code,
    ).toBe(0);
    const list = await runCli(['incident', 'list', '--open', '--server', url, '--token', viewer]);
    expect(list.stdout).toMatch(/INC-3\s+SEV3\s+identified\s+From the CLI\s+shop/);
    expect(list.stdout).not.toMatch(/INC-1\b/);
    const forbidden = await runCli([
      'incident',
      'declare',
      '--title',
      'x',
      '--severity',
      'SEV3',
      '--server',
      url,
      '--token',
      viewer,
    ]);
    expect(forbidden.code).toBe(1);
    expect(forbidden.stderr).toMatch(/POST \/api\/v1\/incidents: 403/);
    // The server knows its severities (configurable) and says which it takes, on one line.
    const badSeverity = await runCli([
      'incident',
      'declare',
      '--title',
      'x',
      '--severity',
      'SEV9',
      '--server',
      url,
      '--token',
      editor,
    ]);
    expect(badSeverity.code).toBe(1);
    expect(badSeverity.stderr.trim().split('\n')).toHaveLength(1);
    expect(badSeverity.stderr).toMatch(/400 .*severity.*"SEV1"\|"SEV2"\|"SEV3"\|"SEV4"/);
    const down = await runCli(['incident', 'list', '--server', 'http://127.0.0.1:9', '--token', viewer]);
    expect(down.code).toBe(1);
    expect(down.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('reviews the period: root causes, budget per service, the policy’s postmortems, overdue items', async () => {
    const path = '/api/v1/reviews?from=2026-09-01&to=2026-10-02';
    expect((await server.request('GET', path)).status).toBe(401);
    const review = await json(server.request('GET', path, { token: viewer }));
    // INC-1 (174.8% of api's budget) has its published postmortem with a P0 item; INC-2 is a drill.
    expect(review.postmortems).toMatchObject({ required: ['INC-1'], gaps: [] });
    expect(review.services.find((s: JsonBody) => s.service === 'shop')).toMatchObject({
      budget: [{ slo: 'api', unit: 'events', consumed: 5000 }],
    });
    expect(review.incidents.count).toBeGreaterThanOrEqual(1);
    const markdown = await server.request('GET', `${path}&format=markdown&lang=ja`, { token: viewer });
    expect(markdown.headers.get('content-type')).toContain('text/markdown');
    expect(await markdown.text()).toContain('# 信頼性レビュー');
    const bad = await server.request('GET', '/api/v1/reviews?from=2026-10-02&to=2026-09-01', {
      token: viewer,
    });
    expect(bad.status).toBe(400);

    const cli = await runCli([
      'review',
      '--from',
      '2026-09-01',
      '--to',
      '2026-10-02',
      '--server',
      server.shinrai.url,
      '--token',
      viewer,
    ]);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toContain('# Reliability review');
    expect(cli.stdout).toContain('| shop |');
  });
  // Last: it adds twenty incidents, and the tests above count references.
  it('numbers twenty declarations made at once apart, every one a 201', async () => {
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        declare({ title: `Burst ${i}`, severity: 'SEV4', services: ['shop'] }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 201));
    const numbers = (await Promise.all(answers.map((a) => a.json()))).map((i: JsonBody) =>
      Number(String(i.reference).replace('INC-', '')),
    );
    numbers.sort((a, b) => a - b);
    expect(numbers).toEqual(Array.from({ length: 20 }, (_, i) => numbers[0]! + i));
  });
});
