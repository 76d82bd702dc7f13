/**
 * The risk catalog over the API on both databases, from the example shop's specs: ranked by bad
 * minutes a year with each SLO's share, filtered by service, and read with a viewer token only.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/testing.js';
import { DIALECTS } from './support/databases.js';
import { type JsonBody, json, startTestServer, type TestServer } from './support/server.js';

describe.each(DIALECTS)('risks API on %s', (dialect) => {
  let server: TestServer;
  let viewer: string;

  beforeAll(async () => {
    server = await startTestServer(dialect, { specs: 'examples/shop', config: { 'risks.tooBigShare': 0.2 } });
    viewer = await server.token('viewer');
  }, 60_000);

  afterAll(async () => {
    await server?.close();
  });

  it('ranks the shop’s risks and sums what each SLO’s budget must absorb', async () => {
    expect((await server.request('GET', '/api/v1/risks')).status).toBe(401);
    const analysis = await json(server.request('GET', '/api/v1/risks', { token: viewer }));
    expect(analysis.tooBigShare).toBe(0.2);
    expect(analysis.risks.map((r: JsonBody) => r.name)).toEqual([
      'search-index-rebuild',
      'db-failover-manual',
      'bad-payment-config',
    ]);
    // db-failover-manual: (5 + 30 + 30 no-runbook) × 100% × 1/yr = 65 of 525.96 minutes.
    const failover = analysis.risks[1];
    expect(failover).toMatchObject({ incidentsPerYear: 1, badMinutesPerYear: 65, tooBig: false });
    expect(failover.effective.ettrMinutes).toBe(60);
    const checkout = analysis.slos.find((s: JsonBody) => s.slo === 'checkout-availability');
    expect(checkout).toMatchObject({ achievable: true, risks: ['db-failover-manual', 'bad-payment-config'] });
    expect(checkout.share).toBeCloseTo((65 + 35 * 0.3 * (365.25 / 60)) / 525.96, 9);
  });

  it('answers what-if for a risk: halving ETTF doubles its bad minutes', async () => {
    const answer = await json(
      server.request('POST', '/api/v1/risks/bad-payment-config/what-if', {
        token: viewer,
        body: { ettfDays: 30 },
      }),
    );
    expect(answer).toMatchObject({ risk: 'bad-payment-config', changed: { ettfDays: 30, ettdMinutes: 15 } });
    expect(answer.after).toBeCloseTo(2 * answer.before, 9);
    expect(answer.savedMinutesPerYear).toBeCloseTo(-answer.before, 9);
    expect(answer.shares[0].after).toBeCloseTo(answer.after / 525.96, 9);
    expect(
      (await server.request('POST', '/api/v1/risks/nope/what-if', { token: viewer, body: { impact: 0.5 } }))
        .status,
    ).toBe(404);
    expect(
      (await server.request('POST', '/api/v1/risks/bad-payment-config/what-if', { token: viewer, body: {} }))
        .status,
    ).toBe(400);
  });

  it('takes risks uploaded through the spec API, with the same located errors', async () => {
    const editor = await server.token('editor');
    const upload = (content: string) =>
      server.request('PUT', '/api/v1/specs', {
        token: editor,
        body: { files: [{ path: 'risks/extra.yaml', content }] },
      });
    const risk = (ettr: string) => `apiVersion: shinrai.dev/v1
kind: Risk
metadata: { name: login-provider-outage }
spec: { service: login, ettd: 2m, ettr: ${ettr}, impact: 50%, ettf: 6M }
`;
    const bad = await json(upload(risk('soon')));
    expect(bad.diagnostics).toContainEqual(
      expect.objectContaining({ file: 'api:risks/extra.yaml', line: 4, severity: 'error' }),
    );
    expect((await upload(risk('58m'))).status).toBe(200);
    const login = await json(server.request('GET', '/api/v1/risks?service=login', { token: viewer }));
    // 60 min × 50% × 2 a year (ETTF six months).
    expect(login.risks).toEqual([
      expect.objectContaining({ name: 'login-provider-outage', badMinutesPerYear: 60 }),
    ]);
    expect(
      (await server.request('PUT', '/api/v1/specs', { token: editor, body: { files: [] } })).status,
    ).toBe(200);
  });

  it('writes, replaces and removes a risk through the API, validated like a spec, kept across spec uploads', async () => {
    const editor = await server.token('editor');
    const put = (name: string, body: unknown, token = editor) =>
      server.request('PUT', `/api/v1/risks/${name}`, { token, body });
    const risk = {
      service: 'checkout',
      description: 'The card network times out',
      ettd: '5m',
      ettr: '30m',
      impact: '100%',
      ettf: '30d',
      slos: ['checkout-availability'],
    };
    expect((await put('card-network-timeout', risk, viewer)).status).toBe(403);
    const created = await put('card-network-timeout', risk);
    expect(created.status).toBe(201);
    // The worked row: 12.175 incidents and 426.1 bad minutes a year, 81% of a 99.9% budget.
    const row = (await created.json()) as JsonBody;
    expect(row).toMatchObject({ name: 'card-network-timeout', service: 'checkout', tooBig: true });
    expect(row.incidentsPerYear).toBeCloseTo(12.175, 9);
    expect(row.badMinutesPerYear).toBeCloseTo(426.125, 9);
    expect(row.shares[0].share).toBeCloseTo(426.125 / 525.96, 9);
    const analysis = await json(server.request('GET', '/api/v1/risks?service=checkout', { token: viewer }));
    expect(analysis.risks[0].name).toBe('card-network-timeout');
    // With the shop's two checkout risks (65 + 63.9 minutes) it no longer fits the 525.96 minutes.
    expect(analysis.slos.find((x: JsonBody) => x.slo === 'checkout-availability')).toMatchObject({
      achievable: false,
    });

    const replaced = await put('card-network-timeout', { ...risk, ettr: '10m', factors: ['no-runbook'] });
    expect(replaced.status).toBe(200);
    expect(((await replaced.json()) as JsonBody).effective.ettrMinutes).toBe(40);

    // PATCH changes some fields (what calibration offers) and keeps the others as written.
    const patch = (name: string, body: unknown) =>
      server.request('PATCH', `/api/v1/risks/${name}`, { token: editor, body });
    const patched = await patch('card-network-timeout', { ettd: '15m', ettf: '60d' });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({
      estimate: { ettdMinutes: 15, ettrMinutes: 10, impact: 1, ettfDays: 60 },
      factors: ['no-runbook'],
      description: 'The card network times out',
      managed: true,
      source: expect.stringMatching(/^api:managed\/risks\/card-network-timeout\.yaml:\d+$/),
    });
    expect((await patch('card-network-timeout', {})).status).toBe(400);
    expect((await patch('card-network-timeout', { ettd: 'soon' })).status).toBe(400);
    expect((await patch('no-such-risk', { ettd: '5m' })).status).toBe(404);
    expect((await patch('db-failover-manual', { ettd: '5m' })).status).toBe(409);
    expect(
      (
        await server.request('PATCH', '/api/v1/risks/card-network-timeout', {
          token: viewer,
          body: { ettd: '1m' },
        })
      ).status,
    ).toBe(403);
    const fileRisk = (await json(server.request('GET', '/api/v1/risks', { token: viewer }))).risks.find(
      (r: JsonBody) => r.name === 'db-failover-manual',
    );
    expect(fileRisk).toMatchObject({
      managed: false,
      source: expect.stringMatching(/^risks\.yaml:\d+$/),
    });
    expect(
      (await put('card-network-timeout', { ...risk, ettr: '10m', factors: ['no-runbook'] })).status,
    ).toBe(200);

    // Checked like a spec: each problem names its field; nothing changes.
    const problemOf = async (body: unknown) => {
      const answer = await put('card-network-timeout', body);
      expect(answer.status).toBe(400);
      expect(answer.headers.get('content-type')).toContain('application/problem+json');
      return ((await answer.json()) as JsonBody).errors as JsonBody[];
    };
    expect((await problemOf({ ...risk, ettr: 'soon' })).map((e) => e.field)).toEqual(['ettr']);
    const misspelt = await problemOf({ ...risk, factors: ['no-runbok'] });
    expect(misspelt.map((e) => e.field)).toEqual(['factors']);
    expect(misspelt[0]!.message).toContain('no-runbook');
    const wrongSlo = await put('card-network-timeout', { ...risk, slos: ['search-latency'] });
    expect(wrongSlo.status).toBe(400);
    expect((await put('Card_Network', risk)).status).toBe(400);
    expect((await put('x', { ...risk, ettd: 5 })).status).toBe(400);
    const kept = await json(server.request('GET', '/api/v1/risks?service=checkout', { token: viewer }));
    expect(kept.risks.find((r: JsonBody) => r.name === 'card-network-timeout').effective.ettrMinutes).toBe(
      40,
    );

    // A risk in a spec file is changed in its file.
    const owned = await put('db-failover-manual', risk);
    expect(owned.status).toBe(409);
    expect(((await owned.json()) as JsonBody).detail).toMatch(/ risks\.yaml:\d+/);
    expect(
      (await server.request('DELETE', '/api/v1/risks/db-failover-manual', { token: editor })).status,
    ).toBe(409);

    // Uploading specs (a CI job) keeps the risks written through the API; the managed paths are not its.
    expect(
      (await server.request('PUT', '/api/v1/specs', { token: editor, body: { files: [] } })).status,
    ).toBe(200);
    const afterUpload = await json(
      server.request('GET', '/api/v1/risks?service=checkout', { token: viewer }),
    );
    expect(afterUpload.risks.map((r: JsonBody) => r.name)).toContain('card-network-timeout');
    const sneaky = await server.request('PUT', '/api/v1/specs', {
      token: editor,
      body: { files: [{ path: 'managed/risks/card-network-timeout.yaml', content: '' }] },
    });
    expect(sneaky.status).toBe(400);

    // The CLI writes, lists and removes them through the same API.
    const cli = (...args: string[]) =>
      runCli(['risk', ...args, '--server', server.shinrai.url, '--token', editor]);
    const setLogin = (ettd: string) =>
      cli(
        'set',
        'login-captcha-outage',
        '--service',
        'login',
        '--ettd',
        ettd,
        '--ettr',
        '1h',
        '--impact',
        '20%',
        '--ettf',
        '1Y',
      );
    const set = await setLogin('10m');
    expect(set.stderr).toBe('');
    expect(set.code).toBe(0);
    expect(set.stdout).toContain('login-captcha-outage');
    const updated = await cli('update', 'login-captcha-outage', '--ettr', '30m');
    expect(updated.code).toBe(0);
    // (10 + 30) × 20% × 1 a year.
    expect(updated.stdout).toContain('login-captcha-outage: 8.0 bad minutes a year');
    const nothing = await cli('update', 'login-captcha-outage');
    expect(nothing.code).toBe(2);
    expect(nothing.stderr.trim().split('\n')).toHaveLength(1);
    const listed = await cli('list', '--service', 'login');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain('login-captcha-outage');
    const badCli = await setLogin('soon');
    expect(badCli.code).not.toBe(0);
    expect(badCli.stderr.trim().split('\n')).toHaveLength(1);
    expect((await cli('delete', 'login-captcha-outage')).code).toBe(0);

    expect(
      (await server.request('DELETE', '/api/v1/risks/card-network-timeout', { token: viewer })).status,
    ).toBe(403);
    expect(
      (await server.request('DELETE', '/api/v1/risks/card-network-timeout', { token: editor })).status,
    ).toBe(204);
    expect(
      (await server.request('DELETE', '/api/v1/risks/card-network-timeout', { token: editor })).status,
    ).toBe(404);
    const gone = await json(server.request('GET', '/api/v1/risks', { token: viewer }));
    expect(gone.risks.map((r: JsonBody) => r.name)).toEqual([
      'search-index-rebuild',
      'db-failover-manual',
      'bad-payment-config',
    ]);
  });

  it('answers fuzzed risk bodies with 2xx or a problem, never 5xx, and never lets a value inject a document', async () => {
    const editor = await server.token('editor');
    const slosBefore = (await json(server.request('GET', '/api/v1/slos', { token: viewer }))).length;
    const text = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.constantFrom('5m', '30d', '1Y', '100%', '0.5', '-1m', '0d', 'checkout', 'no-runbook'),
      fc.constant('x\n---\napiVersion: openslo/v1\nkind: SLO\nmetadata: {name: injected}'),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.constantFrom('fuzzed-risk', 'db-failover-manual'), fc.string({ maxLength: 30 })),
        fc.oneof(
          fc.record(
            {
              service: text,
              description: text,
              ettd: text,
              ettr: text,
              impact: fc.oneof(text, fc.double()),
              ettf: text,
              slos: fc.array(text, { maxLength: 3 }),
              factors: fc.array(text, { maxLength: 3 }),
              status: fc.constantFrom('open', 'accepted', 'mitigated', 'gone'),
            },
            { requiredKeys: [] },
          ),
          fc.json(),
        ),
        async (name, body) => {
          const answer = await server.request('PUT', `/api/v1/risks/${encodeURIComponent(name)}`, {
            token: editor,
            body,
          });
          expect(answer.status, `${name} ${JSON.stringify(body)}`).toBeLessThan(500);
          if (answer.status >= 400) expect(answer.headers.get('content-type')).toMatch(/problem\+json/);
          if (answer.status < 300)
            expect(
              (await server.request('DELETE', `/api/v1/risks/${encodeURIComponent(name)}`, { token: editor }))
                .status,
            ).toBe(204);
        },
      ),
      { numRuns: 60 },
    );
    expect((await json(server.request('GET', '/api/v1/slos', { token: viewer }))).length).toBe(slosBefore);
    const risks = await json(server.request('GET', '/api/v1/risks', { token: viewer }));
    expect(risks.risks).toHaveLength(3);
  });

  it('filters by service', async () => {
    const search = await json(server.request('GET', '/api/v1/risks?service=search', { token: viewer }));
    expect(search.risks.map((r: JsonBody) => r.name)).toEqual(['search-index-rebuild']);
    expect(search.slos.map((s: JsonBody) => s.slo)).toEqual(['search-latency']);
  });

  it('links action items to risks and ranks the backlog by budget minutes saved (JSON, CSV, markdown, CLI)', async () => {
    const editor = await server.token('editor');
    const incident = await json(
      server.request('POST', '/api/v1/incidents', {
        token: editor,
        body: { title: 'DB failover took an hour', severity: 'SEV2', services: ['checkout'] },
      }),
    );
    const pm = await json(
      server.request('POST', `/api/v1/incidents/${incident.reference}/postmortem`, {
        token: editor,
        body: {},
      }),
    );
    const add = (body: unknown) =>
      server.request('POST', `/api/v1/postmortems/${pm.id}/action-items`, { token: editor, body });
    const typo = await add({ title: 'x', category: 'repair', priority: 'P1', risk: 'db-failover-manul' });
    expect(typo.status).toBe(400);
    expect((await json(typo)).detail).toContain('did you mean "db-failover-manual"?');
    // The effect is the risk's written estimate once done: ETTR 30 → 0; the no-runbook factor still adds 30.
    const linked = await json(
      add({
        title: 'Automate failover',
        category: 'prevent',
        priority: 'P1',
        risk: 'db-failover-manual',
        riskEffect: { ettrMinutes: 0 },
      }),
    );
    expect(linked).toMatchObject({ risk: 'db-failover-manual', riskEffect: { ettrMinutes: 0 } });
    await add({ title: 'Page the DB team directly', category: 'detect', priority: 'P0' });
    // The catalog shows each risk with the action items that reduce it.
    const catalog = await json(server.request('GET', '/api/v1/risks?service=checkout', { token: viewer }));
    const byName = new Map(catalog.risks.map((r: JsonBody) => [r.name, r]));
    expect((byName.get('db-failover-manual') as JsonBody).actionItems).toEqual([
      expect.objectContaining({
        id: linked.id,
        title: 'Automate failover',
        status: 'open',
        priority: 'P1',
        savedMinutesPerYear: 30,
      }),
    ]);
    expect((byName.get('bad-payment-config') as JsonBody).actionItems).toEqual([]);

    const backlog = await json(server.request('GET', '/api/v1/backlog?service=checkout', { token: viewer }));
    expect(backlog).toHaveLength(1);
    expect(
      backlog[0].entries.map((e: JsonBody) => [
        e.kind,
        e.risk ?? e.title,
        e.savedMinutesPerYear && Math.round(e.savedMinutesPerYear * 10) / 10,
      ]),
    ).toEqual([
      ['risk', 'db-failover-manual', 65],
      ['risk', 'bad-payment-config', 63.9],
      // ETTR 30 (+30 no-runbook) → 0 (+30): 30 minutes saved a failure, once a year.
      ['action-item', 'db-failover-manual', 30],
      ['action-item', 'Page the DB team directly', null],
    ]);
    const csv = await server.request('GET', '/api/v1/backlog?service=checkout&format=csv', { token: viewer });
    expect(csv.headers.get('content-type')).toContain('text/csv');
    expect((await csv.text()).split('\n')[0]).toBe(
      'service,rank,kind,title,risk,priority,owner,due,status,saved_minutes_per_year',
    );
    const markdown = await server.request('GET', '/api/v1/backlog?format=markdown', { token: viewer });
    expect(markdown.headers.get('content-disposition')).toBe('attachment; filename="reliability-backlog.md"');
    expect(await markdown.text()).toContain(
      '| 3 | action-item | Automate failover | db-failover-manual | P1 |',
    );

    const cli = await runCli([
      'backlog',
      '--service',
      'checkout',
      '--format',
      'csv',
      '--server',
      server.shinrai.url,
      '--token',
      viewer,
    ]);
    expect(cli.code).toBe(0);
    expect(cli.stdout.trim().split('\n')).toHaveLength(5);
  });

  it('calibrates a risk from the incidents labelled with it', async () => {
    const editor = await server.token('editor');
    const declare = async (impactStartedAt: number, ttdMinutes: number, ttrMinutes: number) => {
      const created = await json(
        server.request('POST', '/api/v1/incidents', {
          token: editor,
          body: {
            title: 'payments broken by a config push',
            severity: 'SEV3',
            services: ['checkout'],
            milestones: {
              impactStartedAt: new Date(impactStartedAt).toISOString(),
              detectedAt: new Date(impactStartedAt + ttdMinutes * 60_000).toISOString(),
            },
          },
        }),
      );
      const patched = await server.request('PATCH', `/api/v1/incidents/${created.reference}`, {
        token: editor,
        body: {
          labels: { risk: 'bad-payment-config' },
          milestones: {
            mitigatedAt: new Date(impactStartedAt + (ttdMinutes + ttrMinutes) * 60_000).toISOString(),
          },
        },
      });
      expect(patched.status).toBe(200);
    };
    const T = Date.UTC(2026, 8, 1);
    await declare(T, 40, 25);
    await declare(T + 30 * 86_400_000, 20, 35);
    const [calibration] = await json(
      server.request('GET', '/api/v1/risks/calibration?service=checkout', { token: viewer }),
    );
    expect(calibration).toMatchObject({
      risk: 'bad-payment-config',
      estimate: { ettdMinutes: 15, ettrMinutes: 20, ettfDays: 60 },
      measured: { ttdMinutes: 30, ttrMinutes: 30, tbfDays: 30 },
      specUpdate: 'ettd: 30m\nettr: 30m\nettf: 30d',
    });
    // (30 + 30) × 30% × 12.175 = 219.15 a year, against the estimated 63.9.
    expect(calibration.badMinutesPerYear.measured).toBeCloseTo(219.15, 6);
  });
});
