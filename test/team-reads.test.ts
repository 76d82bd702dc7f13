/**
 * Team-scoped reads (`auth.teamScopedReads`, docs/api.md#teams) on both databases, from the example
 * shop: team-payments owns checkout, team-discovery owns search. Every scoped read route × five
 * principals: a record of another team answers 404 problem+json (as a missing one does), a list
 * holds only the principal's teams' records and those nobody owns. A second replica on the same
 * database with the flag off answers everything to everyone, as before. Also: the SLO list's read
 * cache and the ETags never hand one team's answer to another, and audit events name their teams.
 * Last, a person signed in through a real OpenID provider reads by the teams of their groups, and
 * the server refuses a list route that would skip the filter.
 */

import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken, type ReadScope } from '../src/platform/auth/index.js';
import { systemClock } from '../src/platform/clock.js';
import { loadConfig } from '../src/platform/config.js';
import { openDatabase } from '../src/platform/db/database.js';
import { migrateToLatest } from '../src/platform/db/migrations.js';
import { buildServer } from '../src/platform/http/server.js';
import { createMetrics } from '../src/platform/metrics.js';
import { createTestDatabase, DIALECTS } from './support/databases.js';
import {
  CookieJar,
  oidcSettings,
  send,
  startTestProvider,
  type TestProvider,
  walkProvider,
} from './support/oidc.js';
import { freePort } from './support/prometheus.js';
import { type JsonBody, json, startTestServer, type TestServer } from './support/server.js';
import { seedRequests } from './support/traffic.js';

const PRINCIPALS = ['viewer', 'owner', 'other', 'admin', 'unscoped'] as const;
type Who = (typeof PRINCIPALS)[number];
type Api = (
  method: string,
  path: string,
  body?: unknown,
  headers?: Record<string, string>,
) => Promise<Response>;

/** What each principal sees of team-payments' (checkout) and team-discovery's (search) records. */
const SEES: Record<Who, { checkout: boolean; search: boolean }> = {
  viewer: { checkout: true, search: false },
  owner: { checkout: true, search: false },
  other: { checkout: false, search: true },
  admin: { checkout: true, search: true },
  unscoped: { checkout: true, search: true },
};

/** The records made as admin for each service, by what the routes need. */
interface Fixture {
  incident: string;
  postmortem: string;
  alert: string;
  deployment: string;
}
type Fixtures = Record<'checkout' | 'search', Fixture> & { serviceOf: Map<string, string> };

/** A route about one record: its path for the record of `service`. */
interface RecordRoute {
  readonly route: string;
  readonly method?: string;
  /** A role that may not call the route at all gets 403 before any record is looked up. */
  readonly refused?: readonly Who[];
  path(f: Fixtures, service: 'checkout' | 'search'): string;
}

const RECORDS: RecordRoute[] = [
  { route: 'GET /api/v1/slos/{id}', path: (_f, s) => `/api/v1/slos/${s}-availability` },
  {
    route: 'GET /api/v1/slos/{id}/history',
    path: (_f, s) => `/api/v1/slos/${s}-availability/history?step=1h`,
  },
  { route: 'GET /api/v1/slos/{id}/spec', path: (_f, s) => `/api/v1/slos/${s}-availability/spec` },
  {
    route: 'POST /api/v1/slos/{id}/backtest',
    method: 'POST',
    refused: ['viewer'],
    path: (_f, s) => `/api/v1/slos/${s}-availability/backtest`,
  },
  { route: 'GET /api/v1/incidents/{ref}', path: (f, s) => `/api/v1/incidents/${f[s].incident}` },
  {
    route: 'GET /api/v1/incidents/{ref}/catch-up',
    path: (f, s) => `/api/v1/incidents/${f[s].incident}/catch-up`,
  },
  {
    route: 'GET /api/v1/incidents/{ref}/suspects',
    path: (f, s) => `/api/v1/incidents/${f[s].incident}/suspects`,
  },
  { route: 'GET /api/v1/postmortems/{id}', path: (f, s) => `/api/v1/postmortems/${f[s].postmortem}` },
  { route: 'GET /api/v1/alerts/{id}', path: (f, s) => `/api/v1/alerts/${f[s].alert}` },
  { route: 'GET /api/v1/gate?service=', path: (_f, s) => `/api/v1/gate?service=${s}` },
  { route: 'GET /api/v1/deployments/{id}', path: (f, s) => `/api/v1/deployments/${f[s].deployment}` },
  {
    route: 'GET /api/v1/delivery/metrics?service=',
    path: (_f, s) => `/api/v1/delivery/metrics?service=${s}`,
  },
  {
    route: 'GET /api/v1/delivery/metrics?team=',
    path: (_f, s) => `/api/v1/delivery/metrics?team=${s === 'checkout' ? 'team-payments' : 'team-discovery'}`,
  },
  { route: 'GET /api/v1/reports/monthly?product=', path: (_f, s) => `/api/v1/reports/monthly?product=${s}` },
];

/** A list route: its path and the services of the records in its answer. */
interface ListRoute {
  readonly path: string;
  readonly text?: boolean;
  services(answer: JsonBody, f: Fixtures): string[];
}

const sloService = (id: string) => id.split('-')[0]!;
const LISTS: ListRoute[] = [
  { path: '/api/v1/services', services: (a) => a.map((s: JsonBody) => s.name) },
  { path: '/api/v1/slos', services: (a) => a.map((s: JsonBody) => s.service) },
  { path: '/api/v1/slos?sort=budget', services: (a) => a.map((s: JsonBody) => s.service) },
  { path: '/api/v1/incidents?state=all', services: (a) => a.flatMap((i: JsonBody) => i.services) },
  {
    path: '/api/v1/postmortems',
    services: (a, f) => a.flatMap((p: JsonBody) => p.incidents.map((ref: string) => f.serviceOf.get(ref))),
  },
  {
    path: '/api/v1/action-items',
    services: (a, f) => a.map((i: JsonBody) => f.serviceOf.get(i.postmortemId)),
  },
  { path: '/api/v1/risks', services: (a) => a.risks.map((r: JsonBody) => r.service) },
  { path: '/api/v1/risks/calibration', services: (a) => a.map((r: JsonBody) => r.service) },
  { path: '/api/v1/backlog', services: (a) => a.map((b: JsonBody) => b.service) },
  {
    path: '/api/v1/backlog?format=csv',
    text: true,
    services: (text: string) => ['checkout', 'search'].filter((s) => text.includes(`${s},`)),
  },
  { path: '/api/v1/alerts?state=all', services: (a) => a.map((x: JsonBody) => x.service) },
  { path: '/api/v1/alerts/quality', services: (a) => a.slos.map((s: JsonBody) => sloService(s.slo)) },
  {
    path: '/api/v1/silences',
    services: (a) =>
      a.flatMap((s: JsonBody) =>
        s.matchers.filter((m: JsonBody) => m.label === 'service').map((m: JsonBody) => m.value),
      ),
  },
  { path: '/api/v1/gate/overrides', services: (a) => a.map((o: JsonBody) => o.service) },
  { path: '/api/v1/deployments', services: (a) => a.deployments.map((d: JsonBody) => d.service) },
  { path: '/api/v1/reviews', services: (a) => a.services.map((s: JsonBody) => s.service) },
];

async function ok(response: Promise<Response>): Promise<JsonBody> {
  const r = await response;
  if (r.status >= 300) throw new Error(`answered ${r.status}: ${await r.text()}`);
  return r.status === 204 ? undefined : r.json();
}

describe.each(DIALECTS)('team-scoped reads on %s', (dialect) => {
  let server: TestServer;
  let unscopedServer: TestServer;
  const apis = {} as Record<Who, Api>;
  const flagOff = {} as Record<Who, Api>;
  let fixtures: Fixtures;
  let openIncident: string;

  beforeAll(async () => {
    server = await startTestServer(dialect, {
      specs: 'examples/shop',
      config: { 'auth.teamScopedReads': true },
    });
    // A replica of the same database with the flag off: today's answers.
    unscopedServer = await startTestServer(dialect, { specs: 'examples/shop', database: server.database });
    const nowMs = Date.now();
    const fromMs = Math.floor(nowMs / 60_000) * 60_000 - 70 * 60_000;
    for (const sli of ['checkout-requests', 'search-requests'])
      await seedRequests(server.shinrai.ctx.db, { sli, fromMs, minutes: 70, errorRate: 1, nowMs });
    for (let i = 0; i < 3; i++) await server.shinrai.evaluator.tick();
    const token = async (role: 'viewer' | 'editor' | 'admin', name: string, teams?: string[]) =>
      (await createToken(server.shinrai.ctx, { name, role, teams })).token;
    const tokens: Record<Who, string> = {
      viewer: await token('viewer', 'viewer', ['team-payments']),
      owner: await token('editor', 'payments-ci', ['team-payments']),
      other: await token('editor', 'discovery-ci', ['team-discovery']),
      admin: await token('admin', 'admin'),
      unscoped: await token('editor', 'unscoped'),
    };
    for (const who of PRINCIPALS) {
      apis[who] = (method, path, body, headers) =>
        server.request(method, path, { token: tokens[who], body, headers });
      flagOff[who] = (method, path, body, headers) =>
        unscopedServer.request(method, path, { token: tokens[who], body, headers });
    }

    const admin = apis.admin;
    const alerts = await ok(admin('GET', '/api/v1/alerts?state=all'));
    const serviceOf = new Map<string, string>();
    const make = async (service: 'checkout' | 'search'): Promise<Fixture> => {
      // Labelled with a risk of the service, for the risks' calibration.
      const risk = service === 'checkout' ? 'db-failover-manual' : 'search-index-rebuild';
      const incident = await ok(
        admin('POST', '/api/v1/incidents', {
          title: `On ${service}`,
          severity: 'SEV2',
          services: [service],
          labels: { risk },
        }),
      );
      const postmortem = await ok(admin('POST', `/api/v1/incidents/${incident.reference}/postmortem`));
      await ok(
        admin('POST', `/api/v1/postmortems/${postmortem.id}/action-items`, {
          title: `Fix ${service}`,
          category: 'mitigate',
          priority: 'P1',
        }),
      );
      await ok(
        admin('POST', '/api/v1/silences', {
          matchers: [{ label: 'service', value: service }],
          endsAt: new Date(nowMs + 3_600_000).toISOString(),
          comment: `quiet ${service}`,
        }),
      );
      await ok(admin('POST', '/api/v1/gate/overrides', { service, reason: 'hotfix', expiresIn: '1h' }));
      const deployment = await ok(
        admin('POST', '/api/v1/deployments', {
          id: `deploy-${service}`,
          service,
          environment: 'production',
          finishedAt: new Date(nowMs - 600_000).toISOString(),
          status: 'success',
        }),
      );
      serviceOf.set(incident.reference, service);
      serviceOf.set(postmortem.id, service);
      const alert = alerts.find((a: JsonBody) => a.service === service);
      return {
        incident: incident.reference,
        postmortem: postmortem.id,
        alert: alert.id,
        deployment: deployment.id ?? `deploy-${service}`,
      };
    };
    fixtures = { checkout: await make('checkout'), search: await make('search'), serviceOf };
    // An incident on no service: everyone's.
    openIncident = (await ok(admin('POST', '/api/v1/incidents', { title: 'Somewhere', severity: 'SEV4' })))
      .reference;
  }, 120_000);

  afterAll(async () => {
    await unscopedServer?.close();
    await server?.close();
  });

  it.each(RECORDS.map((r) => [r.route, r] as const))('%s', async (_route, read) => {
    for (const who of PRINCIPALS)
      for (const service of ['checkout', 'search'] as const) {
        const path = read.path(fixtures, service);
        const response = await apis[who](read.method ?? 'GET', path);
        const expected = read.refused?.includes(who) ? 403 : SEES[who][service] ? 200 : 404;
        expect({ who, path, status: response.status }).toEqual({ who, path, status: expected });
        if (expected === 404)
          expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        // The flag off: everyone reads everything, as before.
        expect({ who, path, off: (await flagOff[who](read.method ?? 'GET', path)).status }).toEqual({
          who,
          path,
          off: read.refused?.includes(who) ? 403 : 200,
        });
      }
  });

  it.each(LISTS.map((l) => [l.path, l] as const))('GET %s', async (_path, list) => {
    for (const who of PRINCIPALS) {
      const read = async (api: Api) => {
        const response = await api('GET', list.path);
        expect(response.status).toBe(200);
        return new Set(list.services(list.text ? await response.text() : await response.json(), fixtures));
      };
      const seen = await read(apis[who]);
      expect({ who, checkout: seen.has('checkout'), search: seen.has('search') }).toEqual({
        who,
        ...SEES[who],
      });
      const off = await read(flagOff[who]);
      expect({ who, checkout: off.has('checkout'), search: off.has('search') }).toEqual({
        who,
        checkout: true,
        search: true,
      });
    }
  });

  it('answers an unseen record as it answers a missing one', async () => {
    const unseen = await json(apis.owner('GET', `/api/v1/incidents/${fixtures.search.incident}`));
    const missing = await json(apis.owner('GET', '/api/v1/incidents/INC-9999'));
    expect(unseen.detail.replace(fixtures.search.incident, 'INC-9999')).toBe(missing.detail);
    const gate = await json(apis.owner('GET', '/api/v1/gate?service=search'));
    const noGate = await json(apis.owner('GET', '/api/v1/gate?service=nope'));
    expect(gate.detail.replace('search', 'nope')).toBe(noGate.detail);
    // Another team's deployments are left out, as those of a service that never deployed.
    expect(await json(apis.owner('GET', '/api/v1/deployments?service=search'))).toEqual(
      await json(apis.owner('GET', '/api/v1/deployments?service=nope')),
    );
    // HEAD, which the GET route answers, does not tell them apart either.
    expect((await apis.owner('HEAD', `/api/v1/incidents/${fixtures.search.incident}`)).status).toBe(404);
    const slo = await json(apis.owner('GET', '/api/v1/slos/search-availability'));
    const noSlo = await json(apis.owner('GET', '/api/v1/slos/nope-availability'));
    expect(slo.detail.replace('search', 'nope')).toBe(noSlo.detail);
  });

  it('shows a record touching no owned service to everyone', async () => {
    for (const who of PRINCIPALS) {
      expect((await apis[who]('GET', `/api/v1/incidents/${openIncident}`)).status).toBe(200);
      const list = await ok(apis[who]('GET', '/api/v1/incidents?state=all'));
      expect(list.map((i: JsonBody) => i.reference)).toContain(openIncident);
    }
  });

  it('never serves one team set the SLO list or the validator built for another', async () => {
    const read = async (who: Who, etag?: string) => {
      const response = await apis[who](
        'GET',
        '/api/v1/slos',
        undefined,
        etag ? { 'if-none-match': etag } : {},
      );
      return { status: response.status, etag: response.headers.get('etag'), body: await response.text() };
    };
    // Each team twice in turn: the second read of each comes from the cache.
    const payments = await read('owner');
    const discovery = await read('other');
    const paymentsAgain = await read('viewer');
    const discoveryAgain = await read('other');
    expect(payments.body).not.toBe(discovery.body);
    expect(paymentsAgain.body).toBe(payments.body);
    expect(discoveryAgain.body).toBe(discovery.body);
    const services = (body: string) => [...new Set(JSON.parse(body).map((s: JsonBody) => s.service))].sort();
    expect(services(payments.body)).toEqual(['checkout']);
    expect(services(discovery.body)).toEqual(['search']);
    expect(services((await read('admin')).body)).toEqual(['checkout', 'login', 'search']);
    // Another team's validator is not this team's: the whole (filtered) answer, not 304.
    expect(payments.etag).not.toBe(discovery.etag);
    const crossed = await read('other', payments.etag ?? undefined);
    expect(crossed.status).toBe(200);
    expect(crossed.body).toBe(discovery.body);
    expect((await read('viewer', payments.etag ?? undefined)).status).toBe(304);
  });

  it('tells whoami nothing new and keeps the audit log admin-only', async () => {
    expect((await apis.viewer('GET', '/api/v1/whoami')).status).toBe(200);
    expect((await apis.owner('GET', '/api/v1/audit')).status).toBe(403);
  });

  it('records the teams owning what each write touched, and filters the audit log by team', async () => {
    const events = async (query: string) => (await ok(apis.admin('GET', `/api/v1/audit?${query}`))).events;
    const payments = await events('team=team-payments&action=incident.create');
    expect(payments.map((e: JsonBody) => e.target.id)).toContain(fixtures.checkout.incident);
    expect(payments.map((e: JsonBody) => e.target.id)).not.toContain(fixtures.search.incident);
    for (const event of payments) expect(event.teams).toContain('team-payments');
    const discovery = await events('team=team-discovery');
    expect(discovery.map((e: JsonBody) => e.action)).toEqual(
      expect.arrayContaining(['incident.create', 'silence.create', 'postmortem.create']),
    );
    // A write touching no owned service names no team.
    const open = await events(`targetId=${openIncident}`);
    expect(open.map((e: JsonBody) => e.teams)).toEqual([[]]);
    // A team name is matched whole: "team" is no team.
    expect(await events('team=team')).toEqual([]);
  });
});

describe.each(DIALECTS)('team-scoped reads of a signed-in person on %s', (dialect) => {
  let provider: TestProvider;
  let server: TestServer;
  let base = '';

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    provider = await startTestProvider({
      shinraiUrl: () => base,
      people: { pat: { name: 'Pat Payments', email: 'pat@example.com', groups: ['payments-eng'] } },
    });
    server = await startTestServer(dialect, {
      specs: 'examples/shop',
      config: {
        'server.port': port,
        'auth.teamScopedReads': true,
        'auth.oidc': oidcSettings(provider, base, {
          'payments-eng': { role: 'viewer', teams: ['team-payments'] },
        }),
        'auth.sessions': { secureCookie: false },
      },
    });
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await provider?.close();
  });

  it('reads only the SLOs of the teams the provider’s groups give', async () => {
    const jar = new CookieJar();
    const login = await send(jar, `${base}/auth/login?return=%2F`);
    expect((await send(jar, await walkProvider(jar, login.headers.get('location')!, 'pat'))).status).toBe(
      302,
    );
    const slos = await json(send(jar, `${base}/api/v1/slos`));
    expect([...new Set(slos.map((s: JsonBody) => s.service))]).toEqual(['checkout']);
    expect((await send(jar, `${base}/api/v1/slos/search-availability`)).status).toBe(404);
    expect((await send(jar, `${base}/api/v1/slos/checkout-availability`)).status).toBe(200);
  });
});

describe('the server’s guard of team-scoped lists', () => {
  it('filters a list answered as an object, and refuses one sent as bytes rather than show it whole', async () => {
    const database = await createTestDatabase('sqlite');
    const db = openDatabase(database.url);
    await migrateToLatest(db.kysely);
    const list = async (payload: unknown, scope: ReadScope) =>
      (payload as { service: string }[]).filter((r) => scope.sees([r.service]));
    const rows = [{ service: 'checkout' }, { service: 'search' }];
    const app = await buildServer(
      {
        config: loadConfig({ flags: { 'log.level': 'silent', 'auth.teamScopedReads': true } }),
        db,
        clock: systemClock,
        log: pino({ level: 'silent' }),
        metrics: createMetrics(),
        teamReads: {
          owners: () =>
            new Map([
              ['checkout', ['team-payments']],
              ['search', ['team-discovery']],
            ]),
          record: async () => undefined,
          list: (request) => (request.routeOptions.url?.startsWith('/api/v1/rows') ? list : undefined),
        },
      },
      [
        (scope) => {
          scope.get('/api/v1/rows', async () => rows);
          scope.get('/api/v1/rows-as-bytes', async (_request, reply) =>
            reply.type('application/json').send(JSON.stringify(rows)),
          );
        },
      ],
    );
    try {
      const { token } = await createToken(
        { db, clock: systemClock },
        {
          name: 'payments',
          role: 'viewer',
          teams: ['team-payments'],
        },
      );
      const get = (url: string) => app.inject({ url, headers: { authorization: `Bearer ${token}` } });
      expect((await get('/api/v1/rows')).json()).toEqual([{ service: 'checkout' }]);
      const bytes = await get('/api/v1/rows-as-bytes');
      expect(bytes.statusCode).toBe(500);
      expect(bytes.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(bytes.body).not.toContain('search');
    } finally {
      await app.close();
      await db.close();
      await database.drop();
    }
  });
});
