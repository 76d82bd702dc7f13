/**
 * Team-scoped writes (docs/api.md#teams) on both databases, from the example shop: team-payments
 * owns checkout, team-discovery owns search. Every audited write route that touches team-owned
 * things × five principals → the expected status; a refused write answers 403 problem+json naming
 * the team and changes nothing (read back). Each (route, principal) gets fresh records from an admin.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../src/platform/auth/index.js';
import { DIALECTS } from './support/databases.js';
import { type JsonBody, json, startTestServer, type TestServer } from './support/server.js';
import { seedRequests } from './support/traffic.js';

const PRINCIPALS = ['viewer', 'owner', 'other', 'admin', 'unscoped'] as const;
type Who = (typeof PRINCIPALS)[number];

/** A write: make what it needs (as admin), send it, and read back what a refusal must not change. */
interface Case {
  readonly route: string;
  readonly expect: Readonly<Record<Who, number>>;
  setup(admin: Api): Promise<JsonBody>;
  send(api: Api, fixture: JsonBody): Promise<Response>;
  readBack(admin: Api, fixture: JsonBody): Promise<unknown>;
}

type Api = (method: string, path: string, body?: unknown) => Promise<Response>;

const OPEN = { viewer: 403, owner: 200, other: 403, admin: 200, unscoped: 200 } as const;
const CREATED = { ...OPEN, owner: 201, admin: 201, unscoped: 201 } as const;
const ADMIN_ONLY = { viewer: 403, owner: 403, other: 403, admin: 201, unscoped: 403 } as const;

const body = async (response: Promise<Response>): Promise<JsonBody> => {
  const r = await response;
  if (r.status >= 300) throw new Error(`setup answered ${r.status}: ${await r.text()}`);
  return r.json();
};
const incidentOn = (admin: Api, service: string) =>
  body(admin('POST', '/api/v1/incidents', { title: `On ${service}`, severity: 'SEV3', services: [service] }));
const incidentView = async (admin: Api, ref: string) => {
  const { timeline, ...incident } = await body(admin('GET', `/api/v1/incidents/${ref}`));
  return { incident: { ...incident, catchUp: undefined }, timeline };
};
const incidentCount = async (admin: Api) => (await body(admin('GET', '/api/v1/incidents'))).length;
const postmortemOn = async (admin: Api, service: string) => {
  const incident = await incidentOn(admin, service);
  return body(admin('POST', `/api/v1/incidents/${incident.reference}/postmortem`));
};
const risk = { service: 'checkout', ettd: '5m', ettr: '30m', impact: '50%', ettf: '90d' };
let names = 0;
const managedRisk = async (admin: Api) => {
  const name = `team-risk-${++names}`;
  await body(admin('PUT', `/api/v1/risks/${name}`, risk));
  return { name };
};
const riskView = async (admin: Api, name: string) =>
  (await body(admin('GET', '/api/v1/risks'))).risks.find((r: JsonBody) => r.name === name) ?? null;
const silences = (admin: Api) => body(admin('GET', '/api/v1/silences'));
const inOneHour = () => new Date(Date.now() + 3_600_000).toISOString();
const uploadedSlo = (service: string) => `apiVersion: openslo/v1
kind: SLO
metadata: { name: uploaded-${service} }
spec:
  service: ${service}
  budgetingMethod: Occurrences
  timeWindow: [{ duration: 28d, isRolling: true }]
  indicatorRef: checkout-requests
  objectives: [{ target: 0.99 }]
`;

const auditCount = async (admin: Api, action: string) =>
  (await body(admin('GET', `/api/v1/audit?action=${action}`))).events.length;
const checkoutPage = async (admin: Api) =>
  (await body(admin('GET', '/api/v1/alerts?state=all'))).find(
    (a: JsonBody) => a.service === 'checkout' && a.rule === 'page',
  );

/** The server of the running suite, for read-backs only the database can give (stored minutes). */
let current: TestServer;
const minutesOf = async (sli: string) =>
  (
    await current.shinrai.ctx.db.kysely
      .selectFrom('sli_minutes')
      .select(['minute_ts', 'good', 'total'])
      .where('sli', '=', sli)
      .orderBy('minute_ts')
      .execute()
  ).map((r) => ({ ...r, minute_ts: Number(r.minute_ts) }));
const oneMinute = () => [{ ts: Date.now() - 120_000, good: 9, total: 10 }];
let deployments = 0;
const deployment = (service: string, id = `team-deploy-${++deployments}`) => ({
  id,
  service,
  environment: 'production',
  finishedAt: new Date().toISOString(),
  status: 'success',
});
const deploymentsOf = async (admin: Api, service: string) =>
  (await body(admin('GET', `/api/v1/deployments?service=${service}&limit=500`))).deployments.map(
    (d: JsonBody) => ({ id: d.id, service: d.service, status: d.status }),
  );
let groups = 0;
const notification = (groupKey: string, labels: Record<string, string>) => ({
  version: '4',
  groupKey,
  status: 'firing',
  receiver: 'shinrai',
  groupLabels: { alertname: 'HighErrorRate' },
  commonLabels: { alertname: 'HighErrorRate', severity: 'critical', ...labels },
  commonAnnotations: { summary: 'Errors are high' },
  alerts: [
    {
      status: 'firing',
      labels: { alertname: 'HighErrorRate', severity: 'critical', ...labels },
      annotations: {},
      startsAt: new Date().toISOString(),
      fingerprint: `fp-${groupKey}`,
    },
  ],
});

const CASES: Case[] = [
  {
    route: 'POST /api/v1/sli/{name}/events (an SLI of checkout)',
    expect: OPEN,
    setup: async () => ({}),
    send: (api) => api('POST', '/api/v1/sli/checkout-requests/events', oneMinute()),
    readBack: () => minutesOf('checkout-requests'),
  },
  {
    route: 'POST /api/v1/sli/{name}/events (by the SLO id)',
    expect: OPEN,
    setup: async () => ({}),
    send: (api) => api('POST', '/api/v1/sli/checkout-availability/events', oneMinute()),
    readBack: () => minutesOf('checkout-requests'),
  },
  {
    route: 'POST /api/v1/deployments',
    expect: CREATED,
    setup: async () => ({}),
    send: (api) => api('POST', '/api/v1/deployments', deployment('checkout')),
    readBack: (admin) => deploymentsOf(admin, 'checkout'),
  },
  {
    // A later status of a deployment: its service's team (another service under the id is a 409).
    route: 'POST /api/v1/deployments (a later status of a search deployment)',
    expect: { viewer: 403, owner: 403, other: 200, admin: 200, unscoped: 200 },
    setup: async (admin) => body(admin('POST', '/api/v1/deployments', deployment('search'))),
    send: (api, f) =>
      api('POST', '/api/v1/deployments', { ...deployment('search', f.id), status: 'failure' }),
    readBack: (admin) => deploymentsOf(admin, 'search'),
  },
  {
    route: 'POST /api/v1/deployments/batch',
    expect: OPEN,
    setup: async () => ({}),
    send: (api) =>
      api('POST', '/api/v1/deployments/batch', {
        deployments: [deployment('checkout'), deployment('checkout')],
      }),
    readBack: (admin) => deploymentsOf(admin, 'checkout'),
  },
  {
    // All or nothing: the checkout row is not stored either.
    route: 'POST /api/v1/deployments/batch (one row of another team)',
    expect: { viewer: 403, owner: 403, other: 403, admin: 200, unscoped: 200 },
    setup: async () => ({}),
    send: (api) =>
      api('POST', '/api/v1/deployments/batch', {
        deployments: [deployment('checkout'), deployment('search')],
      }),
    readBack: async (admin) => [await deploymentsOf(admin, 'search'), await deploymentsOf(admin, 'checkout')],
  },
  {
    route: 'POST /api/v1/integrations/alertmanager (service label checkout)',
    expect: OPEN,
    setup: async () => ({ groupKey: `{}:{alertname="HighErrorRate",n="${++groups}"}` }),
    send: (api, f) =>
      api('POST', '/api/v1/integrations/alertmanager', notification(f.groupKey, { service: 'checkout' })),
    readBack: incidentCount,
  },
  {
    route: 'POST /api/v1/integrations/alertmanager (slo label of checkout)',
    expect: OPEN,
    setup: async () => ({ groupKey: `{}:{alertname="HighErrorRate",n="${++groups}"}` }),
    send: (api, f) =>
      api('POST', '/api/v1/integrations/alertmanager', notification(f.groupKey, { slo: 'checkout-latency' })),
    readBack: incidentCount,
  },
  {
    route: 'POST /api/v1/integrations/alertmanager (no service label: open to every editor)',
    expect: { ...OPEN, other: 200 },
    setup: async () => ({ groupKey: `{}:{alertname="HighErrorRate",n="${++groups}"}` }),
    send: (api, f) => api('POST', '/api/v1/integrations/alertmanager', notification(f.groupKey, {})),
    readBack: incidentCount,
  },
  {
    // A notification adding to an open incident touches that incident's services too.
    route: 'POST /api/v1/integrations/alertmanager (adding to an open checkout incident)',
    expect: OPEN,
    setup: async (admin) => {
      const groupKey = `{}:{alertname="HighErrorRate",n="${++groups}"}`;
      const declared = await body(
        admin('POST', '/api/v1/integrations/alertmanager', notification(groupKey, { service: 'checkout' })),
      );
      return { groupKey, reference: declared.incident };
    },
    send: (api, f) =>
      api('POST', '/api/v1/integrations/alertmanager', {
        ...notification(f.groupKey, { instance: 'b' }),
        alerts: [{ ...notification(f.groupKey, {}).alerts[0], fingerprint: `other-${++groups}` }],
      }),
    readBack: (admin, f) => incidentView(admin, f.reference),
  },
  {
    route: 'POST /api/v1/alerts/{id}/feedback',
    expect: OPEN,
    setup: checkoutPage,
    send: (api, f) => api('POST', `/api/v1/alerts/${f.id}/feedback`, { verdict: 'noise' }),
    readBack: (admin) => auditCount(admin, 'alert.feedback'),
  },
  {
    route: 'POST /api/v1/alerts/{id}/incident',
    expect: OPEN,
    setup: checkoutPage,
    send: (api, f) => api('POST', `/api/v1/alerts/${f.id}/incident`),
    readBack: incidentCount,
  },
  {
    route: 'POST /api/v1/incidents',
    expect: CREATED,
    setup: async () => ({}),
    send: (api) =>
      api('POST', '/api/v1/incidents', { title: 'Checkout down', severity: 'SEV2', services: ['checkout'] }),
    readBack: incidentCount,
  },
  {
    route: 'POST /api/v1/incidents (an SLO of the owning team)',
    expect: CREATED,
    setup: async () => ({}),
    send: (api) =>
      api('POST', '/api/v1/incidents', { title: 'Slow', severity: 'SEV3', slos: ['checkout-latency'] }),
    readBack: incidentCount,
  },
  {
    route: 'POST /api/v1/incidents (no service: open to every editor)',
    expect: { ...CREATED, other: 201 },
    setup: async () => ({}),
    send: (api) => api('POST', '/api/v1/incidents', { title: 'Something', severity: 'SEV4' }),
    readBack: incidentCount,
  },
  {
    route: 'PATCH /api/v1/incidents/{ref}',
    expect: OPEN,
    setup: (admin) => incidentOn(admin, 'checkout'),
    send: (api, f) => api('PATCH', `/api/v1/incidents/${f.reference}`, { summary: 'changed' }),
    readBack: (admin, f) => incidentView(admin, f.reference),
  },
  {
    // The other team's incident may not be pulled onto one's own service either.
    route: 'PATCH /api/v1/incidents/{ref} (adding a service of another team)',
    expect: { viewer: 403, owner: 403, other: 403, admin: 200, unscoped: 200 },
    setup: (admin) => incidentOn(admin, 'search'),
    send: (api, f) => api('PATCH', `/api/v1/incidents/${f.reference}`, { services: ['search', 'checkout'] }),
    readBack: (admin, f) => incidentView(admin, f.reference),
  },
  {
    route: 'POST /api/v1/incidents/{ref}/notes',
    expect: CREATED,
    setup: (admin) => incidentOn(admin, 'checkout'),
    send: (api, f) => api('POST', `/api/v1/incidents/${f.reference}/notes`, { text: 'a note' }),
    readBack: (admin, f) => incidentView(admin, f.reference),
  },
  {
    route: 'PATCH /api/v1/incidents/{ref}/events/{eventId}',
    expect: OPEN,
    setup: async (admin) => {
      const incident = await incidentOn(admin, 'checkout');
      const { timeline } = await incidentView(admin, incident.reference);
      return { reference: incident.reference, eventId: timeline[0].id };
    },
    send: (api, f) => api('PATCH', `/api/v1/incidents/${f.reference}/events/${f.eventId}`, { starred: true }),
    readBack: (admin, f) => incidentView(admin, f.reference),
  },
  {
    route: 'POST /api/v1/incidents/{ref}/postmortem',
    expect: CREATED,
    setup: (admin) => incidentOn(admin, 'checkout'),
    send: (api, f) => api('POST', `/api/v1/incidents/${f.reference}/postmortem`),
    readBack: async (admin) => (await body(admin('GET', '/api/v1/postmortems'))).length,
  },
  {
    route: 'PATCH /api/v1/postmortems/{id}',
    expect: OPEN,
    setup: (admin) => postmortemOn(admin, 'checkout'),
    send: (api, f) => api('PATCH', `/api/v1/postmortems/${f.id}`, { markdown: '# changed' }),
    readBack: (admin, f) => body(admin('GET', `/api/v1/postmortems/${f.id}`)),
  },
  {
    route: 'POST /api/v1/postmortems/{id}/action-items',
    expect: CREATED,
    setup: (admin) => postmortemOn(admin, 'checkout'),
    send: (api, f) =>
      api('POST', `/api/v1/postmortems/${f.id}/action-items`, {
        title: 'Fix',
        category: 'mitigate',
        priority: 'P1',
      }),
    readBack: (admin, f) => body(admin('GET', `/api/v1/postmortems/${f.id}`)),
  },
  {
    route: 'PATCH /api/v1/action-items/{id}',
    expect: OPEN,
    setup: async (admin) => {
      const postmortem = await postmortemOn(admin, 'checkout');
      return body(
        admin('POST', `/api/v1/postmortems/${postmortem.id}/action-items`, {
          title: 'Fix',
          category: 'mitigate',
          priority: 'P1',
        }),
      );
    },
    send: (api, f) => api('PATCH', `/api/v1/action-items/${f.id}`, { priority: 'P0' }),
    readBack: async (admin) => body(admin('GET', '/api/v1/action-items')),
  },
  {
    route: 'PUT /api/v1/risks/{name} (create)',
    expect: CREATED,
    setup: async () => ({ name: `team-risk-${++names}` }),
    send: (api, f) => api('PUT', `/api/v1/risks/${f.name}`, risk),
    readBack: (admin, f) => riskView(admin, f.name),
  },
  {
    route: 'PUT /api/v1/risks/{name} (moving a checkout risk to search)',
    expect: { viewer: 403, owner: 403, other: 403, admin: 200, unscoped: 200 },
    setup: managedRisk,
    send: (api, f) => api('PUT', `/api/v1/risks/${f.name}`, { ...risk, service: 'search' }),
    readBack: (admin, f) => riskView(admin, f.name),
  },
  {
    route: 'PATCH /api/v1/risks/{name}',
    expect: OPEN,
    setup: managedRisk,
    send: (api, f) => api('PATCH', `/api/v1/risks/${f.name}`, { ettr: '20m' }),
    readBack: (admin, f) => riskView(admin, f.name),
  },
  {
    route: 'DELETE /api/v1/risks/{name}',
    expect: { ...OPEN, owner: 204, admin: 204, unscoped: 204 },
    setup: managedRisk,
    send: (api, f) => api('DELETE', `/api/v1/risks/${f.name}`),
    readBack: (admin, f) => riskView(admin, f.name),
  },
  {
    route: 'POST /api/v1/silences',
    expect: CREATED,
    setup: async () => ({}),
    send: (api) =>
      api('POST', '/api/v1/silences', {
        matchers: [{ label: 'service', value: 'checkout' }],
        endsAt: inOneHour(),
        comment: 'deploy',
      }),
    readBack: silences,
  },
  {
    route: 'POST /api/v1/silences (no service or slo matcher: every team)',
    expect: { viewer: 403, owner: 403, other: 403, admin: 201, unscoped: 201 },
    setup: async () => ({}),
    send: (api) =>
      api('POST', '/api/v1/silences', {
        matchers: [{ label: 'tier', value: 'page' }],
        endsAt: inOneHour(),
        comment: 'quiet',
      }),
    readBack: silences,
  },
  {
    route: 'DELETE /api/v1/silences/{id}',
    expect: { ...OPEN, owner: 204, admin: 204, unscoped: 204 },
    setup: (admin) =>
      body(
        admin('POST', '/api/v1/silences', {
          matchers: [{ label: 'slo', value: 'checkout-latency' }],
          endsAt: inOneHour(),
          comment: 'deploy',
        }),
      ),
    send: (api, f) => api('DELETE', `/api/v1/silences/${f.id}`),
    readBack: silences,
  },
  {
    route: 'POST /api/v1/gate/overrides (admins only, as before)',
    expect: ADMIN_ONLY,
    setup: async () => ({}),
    send: (api) =>
      api('POST', '/api/v1/gate/overrides', { service: 'checkout', reason: 'hotfix', expiresIn: '1h' }),
    readBack: async (admin) => body(admin('GET', '/api/v1/gate/overrides')),
  },
  {
    route: 'DELETE /api/v1/gate/overrides/{id} (admins only, as before)',
    expect: { ...ADMIN_ONLY, admin: 200 },
    setup: (admin) =>
      body(
        admin('POST', '/api/v1/gate/overrides', { service: 'checkout', reason: 'hotfix', expiresIn: '1h' }),
      ),
    send: (api, f) => api('DELETE', `/api/v1/gate/overrides/${f.id}`),
    readBack: async (admin) => body(admin('GET', '/api/v1/gate/overrides')),
  },
  {
    route: 'PUT /api/v1/specs',
    expect: OPEN,
    setup: async (admin) => body(admin('PUT', '/api/v1/specs', { files: [] })),
    send: (api) =>
      api('PUT', '/api/v1/specs', {
        files: [{ path: 'team/checkout.yaml', content: uploadedSlo('checkout') }],
      }),
    readBack: async (admin) => (await body(admin('GET', '/api/v1/specs'))).files,
  },
];

describe.each(DIALECTS)('team-scoped writes on %s', (dialect) => {
  let server: TestServer;
  const apis = {} as Record<Who, Api>;

  beforeAll(async () => {
    server = await startTestServer(dialect, { specs: 'examples/shop' });
    current = server;
    // An hour of failed checkouts: the checkout page fires, for the alert routes.
    const nowMs = Date.now();
    const fromMs = Math.floor(nowMs / 60_000) * 60_000 - 70 * 60_000;
    await seedRequests(server.shinrai.ctx.db, {
      sli: 'checkout-requests',
      fromMs,
      minutes: 70,
      errorRate: 1,
      nowMs,
    });
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
    for (const who of PRINCIPALS)
      apis[who] = (method, path, requestBody) =>
        server.request(method, path, { token: tokens[who], body: requestBody });
  }, 60_000);

  afterAll(async () => {
    await server?.close();
  });

  it.each(CASES.map((c) => [c.route, c] as const))('%s', async (_route, write) => {
    for (const who of PRINCIPALS) {
      const fixture = await write.setup(apis.admin);
      const before = await write.readBack(apis.admin, fixture);
      const response = await write.send(apis[who], fixture);
      const answer: JsonBody = response.status === 204 ? undefined : await response.json();
      expect({ who, status: response.status, answer }).toMatchObject({ who, status: write.expect[who] });
      if (response.status === 403) {
        expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        if (who === 'other' && write.expect.owner < 300)
          expect(answer.detail).toMatch(
            /needs editor rights on team team-payments \(service checkout\); your teams: team-discovery/,
          );
        expect(await write.readBack(apis.admin, fixture)).toEqual(before);
      }
    }
  });

  it('tells a team-scoped token its teams in whoami', async () => {
    expect(await json(apis.owner('GET', '/api/v1/whoami'))).toEqual({
      name: 'payments-ci',
      role: 'editor',
      kind: 'token',
      teams: ['team-payments'],
      // What the UI shows read-only to this token: the other teams' services and SLOs.
      readOnly: {
        services: ['login', 'search'],
        slos: ['login-availability', 'search-availability', 'search-latency'],
      },
    });
    const unscoped = await json(apis.unscoped('GET', '/api/v1/whoami'));
    expect(unscoped.teams).toBeUndefined();
    expect(unscoped.readOnly).toBeUndefined();
  });
});
