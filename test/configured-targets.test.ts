// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} in the config file is the feature under test
/**
 * Notification targets configured on the server (notificationTargets.<name> in the config file),
 * on both databases: a server with no spec directory, whose specs all arrive through PUT
 * /api/v1/specs, delivers a firing alert to the target an uploaded AlertPolicy names with
 * targetRef, signed with the secret the config file takes from the server's environment; an
 * upload naming an unconfigured target is told so; alerting.notify reaches a configured target too.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signature, type WebhookPayload } from '../src/notifications/outbox.js';
import { DIALECTS } from './support/databases.js';
import { Listener } from './support/listener.js';
import { type JsonBody, json, ManualClock, startTestServer, type TestServer } from './support/server.js';
import { seedRequests } from './support/traffic.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 9, 1, 0, 0);
const SECRET_ENV = 'SHINRAI_TEST_CONFIGURED_HOOK_SECRET';
const SECRET = 'configured-hook-secret-3d1f';

/** An SLO on ingested counts whose one AlertPolicy pages at 14.4× over 1 h and notifies `targetRef`. */
const sloWithPolicy = (name: string, targetRef: string) => `apiVersion: openslo/v1
kind: SLO
metadata: { name: ${name} }
spec:
  service: shop
  budgetingMethod: Occurrences
  timeWindow: [{ duration: 30d, isRolling: true }]
  indicator:
    metadata: { name: ${name}-requests }
    spec:
      ratioMetric:
        good: { metricSource: { type: shinrai, spec: {} } }
        total: { metricSource: { type: shinrai, spec: {} } }
  objectives: [{ target: 0.999 }]
  alertPolicies:
    - kind: AlertPolicy
      metadata: { name: fast }
      spec:
        conditions:
          - kind: AlertCondition
            metadata: { name: hour }
            spec: { severity: page, condition: { kind: burnrate, op: gt, threshold: 14.4, lookbackWindow: 1h, alertAfter: 0m } }
        notificationTargets: [{ targetRef: ${targetRef} }]
`;

/** An SLO without alert policies: the default (Workbook) rules, which notify alerting.notify. */
const sloWithDefaults = (name: string) => `apiVersion: openslo/v1
kind: SLO
metadata: { name: ${name} }
spec:
  service: shop
  budgetingMethod: Occurrences
  timeWindow: [{ duration: 30d, isRolling: true }]
  indicator:
    metadata: { name: ${name}-requests }
    spec:
      ratioMetric:
        good: { metricSource: { type: shinrai, spec: {} } }
        total: { metricSource: { type: shinrai, spec: {} } }
  objectives: [{ target: 0.999 }]
`;

describe.each(DIALECTS)('notification targets configured on the server, on %s', (dialect) => {
  const listener = new Listener();
  const clock = new ManualClock(T0);
  let dir: string;
  let server: TestServer;
  let editor: string;

  const traffic = (sli: string, fromMs: number, minutes: number, errorRate: number) =>
    seedRequests(server.shinrai.ctx.db, { sli, fromMs, minutes, errorRate, nowMs: clock.ms });
  const tickAt = async (ms: number) => {
    clock.ms = ms;
    for (let i = 0; i < 2; i++) await server.shinrai.evaluator.tick();
  };
  const hooks = () => listener.requests.filter((r) => r.url.startsWith('/hook'));

  beforeAll(async () => {
    process.env[SECRET_ENV] = SECRET;
    await listener.listen();
    dir = await mkdtemp(join(tmpdir(), 'shinrai-configured-targets-'));
    const configFile = join(dir, 'shinrai.yaml');
    await writeFile(
      configFile,
      `notificationTargets:
  oncall:
    target: webhook
    url: ${listener.url}/hook/oncall
    secret: \${${SECRET_ENV}}
  team-chat:
    target: webhook
    url: ${listener.url}/hook/team-chat
alerting:
  notify: team-chat
`,
    );
    // No spec directory: every spec comes through the API.
    server = await startTestServer(dialect, {
      configFile,
      clock,
      config: { 'alerting.deliveryIntervalSeconds': 300 },
    });
    expect(server.shinrai.ctx.config.specs.path).toBeUndefined();
    editor = await server.token('editor');
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await listener.close();
    if (dir) await rm(dir, { recursive: true, force: true });
    delete process.env[SECRET_ENV];
  });

  it('an upload naming an unconfigured target is told where to configure it', async () => {
    const answer = (await json(
      server.request('PUT', '/api/v1/specs', {
        token: editor,
        body: { files: [{ path: 'team.yaml', content: sloWithPolicy('api', 'nobody') }] },
      }),
    )) as JsonBody;
    const errors = answer.diagnostics.filter((d: JsonBody) => d.severity === 'error');
    expect(errors).toEqual([
      expect.objectContaining({
        file: 'api:team.yaml',
        rule: 'openslo/ref-unresolved',
        message: 'targetRef "nobody" names no AlertNotificationTarget',
        hint: expect.stringContaining('notificationTargets.nobody'),
      }),
    ]);
    // The configured names are listed; their URLs and secrets are not.
    expect(errors[0].hint).toContain('defined: oncall, team-chat');
    expect(JSON.stringify(answer)).not.toContain(listener.url);
    expect(JSON.stringify(answer)).not.toContain(SECRET);
  });

  it('delivers a firing alert of an uploaded spec to the target it names, signed with the secret from the env', async () => {
    const upload = await server.request('PUT', '/api/v1/specs', {
      token: editor,
      body: {
        files: [
          { path: 'team.yaml', content: sloWithPolicy('api', 'oncall') },
          { path: 'defaults.yaml', content: sloWithDefaults('web') },
        ],
      },
    });
    expect(upload.status).toBe(200);
    expect(
      ((await upload.json()) as JsonBody).diagnostics.filter((d: JsonBody) => d.severity === 'error'),
    ).toEqual([]);

    for (const sli of ['api-requests', 'web-requests']) await traffic(sli, T0 - 4 * 1440 * MIN, 4 * 1440, 0);
    await tickAt(T0);
    for (const sli of ['api-requests', 'web-requests']) await traffic(sli, T0, 1, 1);
    await tickAt(T0 + MIN);

    const queued = await server.shinrai.ctx.db.kysely
      .selectFrom('notification_outbox')
      .select(['target', 'transition'])
      .orderBy('target')
      .execute();
    expect(queued).toEqual([
      { target: 'oncall', transition: 'firing' },
      { target: 'team-chat', transition: 'firing' },
    ]);
    await server.shinrai.deliverer.cycle();

    const oncall = hooks().filter((r) => r.url === '/hook/oncall');
    expect(oncall).toHaveLength(1);
    const [request] = oncall;
    const payload = JSON.parse(request!.body) as WebhookPayload;
    expect(payload).toMatchObject({ status: 'firing', alert: { slo: 'api', rule: 'fast/hour' } });
    const timestamp = String(request!.headers['x-shinrai-timestamp']);
    expect(request!.headers['x-shinrai-signature']).toBe(
      `sha256=${signature(SECRET, timestamp, request!.body)}`,
    );

    // The default rules of the other SLO notify alerting.notify, a configured target without a secret.
    const chat = hooks().filter((r) => r.url === '/hook/team-chat');
    expect(chat).toHaveLength(1);
    expect((JSON.parse(chat[0]!.body) as WebhookPayload).alert.slo).toBe('web');
    expect(chat[0]!.headers['x-shinrai-signature']).toBeUndefined();

    const rows = await server.shinrai.ctx.db.kysely.selectFrom('notification_outbox').selectAll().execute();
    expect(rows.every((r) => r.delivered_at !== null && r.last_error === null)).toBe(true);
    const metrics = await (await server.request('GET', '/metrics')).text();
    expect(metrics).toMatch(/shinrai_notifications_total\{target="oncall",outcome="delivered"\} 1/);
  }, 60_000);
});
