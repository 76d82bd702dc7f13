// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} in the config file is the feature under test
/**
 * Microsoft Teams targets end to end, on both databases: a server with a `teams` target from the
 * config file (Japanese cards, its Workflows URL — a secret — from the environment) and one from
 * the spec directory (English) delivers a page's firing and its resolution to a local receiver
 * that answers like a Teams Workflows trigger (202 Accepted). The receiver first rate-limits with
 * 429 + Retry-After, then fails with a 500 whose body must never show up: the notification waits
 * the time asked, is retried, and arrives once per key. Every card received passes Microsoft's
 * `adaptivecards` library and the card schema's required properties.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { teamsMessageProblems } from './support/adaptive-cards.js';
import { DIALECTS } from './support/databases.js';
import { REMOTE_SECRET } from './support/listener.js';
import { ManualClock, startTestServer, type TestServer } from './support/server.js';
import { ratioSloYaml } from './support/specs.js';
import { seedRequests } from './support/traffic.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 9, 1, 0, 0);
const URL_ENV = 'SHINRAI_TEST_TEAMS_WORKFLOW_URL';
/** The signature in a Workflows URL is what lets anyone post: it must never be logged or stored. */
const SIG = 'workflow-sig-5c1e9a';

interface Received {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

interface Answer {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

/** A Teams Workflows trigger: 202 Accepted, unless a scripted answer for that path comes first. */
class TeamsReceiver {
  readonly received: Received[] = [];
  readonly script = new Map<string, Answer[]>();
  private server: Server | undefined;
  port = 0;

  async listen(): Promise<void> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      req.on('end', () => {
        const path = new URL(req.url ?? '/', 'http://x').pathname;
        this.received.push({ path, headers: req.headers, body });
        const answer = this.script.get(path)?.shift() ?? { status: 202 };
        res.writeHead(answer.status, answer.headers).end(answer.body ?? '');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  at(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

describe.each(DIALECTS)('Teams notifications on %s', (dialect) => {
  const receiver = new TeamsReceiver();
  const clock = new ManualClock(T0);
  let logged = '';
  let dir: string;
  let server: TestServer;

  const traffic = (fromMs: number, minutes: number, errorRate: number) =>
    seedRequests(server.shinrai.ctx.db, { sli: 'api-requests', fromMs, minutes, errorRate, nowMs: clock.ms });
  const tickAt = async (ms: number) => {
    clock.ms = ms;
    for (let i = 0; i < 2; i++) await server.shinrai.evaluator.tick();
  };
  const outbox = (target: string) =>
    server.shinrai.ctx.db.kysely
      .selectFrom('notification_outbox')
      .selectAll()
      .where('target', '=', target)
      .orderBy('created_at')
      .execute();

  beforeAll(async () => {
    await receiver.listen();
    process.env[URL_ENV] = `http://127.0.0.1:${receiver.port}/workflows/ja?api-version=1&sig=${SIG}`;
    dir = await mkdtemp(join(tmpdir(), 'shinrai-teams-'));
    const specs = join(dir, 'specs');
    await mkdir(specs);
    await writeFile(
      join(specs, 'slo.yaml'),
      `${ratioSloYaml('api', {
        target: 0.999,
        window: '30d',
        service: 'shop',
        annotations: { 'shinrai.dev/runbook': 'https://runbooks.example.com/api' },
      })}---
apiVersion: openslo/v1
kind: AlertNotificationTarget
metadata:
  name: team-en
  annotations:
    shinrai.dev/url: http://127.0.0.1:${receiver.port}/webhookb2/en
spec: { target: teams, description: the team channel through a legacy incoming webhook }
`,
    );
    const configFile = join(dir, 'shinrai.yaml');
    await writeFile(
      configFile,
      `notificationTargets:
  team-ja:
    target: teams
    url: \${${URL_ENV}}
    language: ja
alerting:
  notify: team-ja,team-en
`,
    );
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logged += chunk.toString();
        done();
      },
    });
    server = await startTestServer(dialect, {
      specs,
      configFile,
      clock,
      anonymousRead: true,
      config: { 'alerting.deliveryIntervalSeconds': 300 },
      log: pino({ level: 'debug' }, sink),
    });
    await traffic(T0 - 4 * 1440 * MIN, 4 * 1440, 0);
    await tickAt(T0);
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await receiver.close();
    if (dir) await rm(dir, { recursive: true, force: true });
    delete process.env[URL_ENV];
  });

  it('delivers a page as a valid Adaptive Card, waiting out a 429 Retry-After and retrying a 500', async () => {
    receiver.script.set('/workflows/ja', [
      { status: 429, headers: { 'retry-after': '600' }, body: 'slow down' },
      { status: 500, headers: { 'content-type': 'text/plain' }, body: `${REMOTE_SECRET} stack trace` },
    ]);
    await traffic(T0, 1, 1);
    await tickAt(T0 + MIN);
    const [queued] = await outbox('team-ja');
    expect(queued).toMatchObject({ transition: 'firing', delivered_at: null });
    expect((await outbox('team-en')).map((r) => r.transition)).toEqual(['firing']);

    // First pass: the English channel takes it; the Japanese one answers 429, wait 600 s.
    await server.shinrai.deliverer.cycle();
    expect(receiver.at('/webhookb2/en')).toHaveLength(1);
    expect(receiver.at('/workflows/ja')).toHaveLength(1);
    const [limited] = await outbox('team-ja');
    expect(limited!.last_error).toBe('team-ja answered HTTP 429 Too Many Requests');
    expect(Number(limited!.next_attempt_at)).toBeGreaterThanOrEqual(clock.ms + 600_000);

    // Five minutes on, the receiver is still owed its quiet: nothing is sent.
    clock.advance(5 * MIN);
    await server.shinrai.deliverer.cycle();
    expect(receiver.at('/workflows/ja')).toHaveLength(1);

    // Past the ten minutes: sent again, answered 500, retried after backoff, then accepted.
    clock.advance(6 * MIN);
    await server.shinrai.deliverer.cycle();
    expect(receiver.at('/workflows/ja')).toHaveLength(2);
    const [failed] = await outbox('team-ja');
    expect(failed!.last_error).toBe('team-ja answered HTTP 500 Internal Server Error');
    clock.advance(15 * MIN);
    await server.shinrai.deliverer.cycle();
    const ja = receiver.at('/workflows/ja');
    expect(ja).toHaveLength(3);
    const [delivered] = await outbox('team-ja');
    expect(delivered).toMatchObject({ attempts: expect.anything(), last_error: null });
    expect(Number(delivered!.attempts)).toBe(3);
    expect(delivered!.delivered_at).not.toBeNull();

    // The same notification each time: one idempotency key, one body.
    expect(new Set(ja.map((r) => r.headers['idempotency-key']))).toEqual(new Set([delivered!.id]));
    expect(new Set(ja.map((r) => r.body)).size).toBe(1);
    for (const request of [...ja, ...receiver.at('/webhookb2/en')]) {
      expect(request.headers['content-type']).toBe('application/json');
      expect(teamsMessageProblems(JSON.parse(request.body))).toEqual([]);
    }
    const japanese = ja[2]!.body;
    expect(japanese).toContain('発火中');
    expect(japanese).toContain('api (shop) がエラーバジェットを');
    expect(japanese).toContain('https://runbooks.example.com/api');
    const english = receiver.at('/webhookb2/en')[0]!.body;
    expect(english).toContain('FIRING · page · api');
    expect(english).not.toContain('発火中');

    // Neither the receiver's body nor the URL's signature is logged or stored.
    const rows = JSON.stringify(
      await server.shinrai.ctx.db.kysely.selectFrom('notification_outbox').selectAll().execute(),
    );
    for (const text of [logged, rows]) {
      expect(text).not.toContain(REMOTE_SECRET);
      expect(text).not.toContain(SIG);
    }
    expect(logged).toContain('team-ja answered HTTP 500 Internal Server Error');
    const metrics = await (await server.request('GET', '/metrics')).text();
    expect(metrics).toMatch(/shinrai_notifications_total\{target="team-ja",outcome="delivered"\} 1/);
    expect(metrics).toMatch(/shinrai_notifications_total\{target="team-ja",outcome="failed"\} 2/);
  }, 60_000);

  it('delivers the resolution as a valid card to both channels', async () => {
    const before = receiver.received.length;
    await traffic(T0 + MIN, 45, 0);
    await tickAt(T0 + 45 * MIN);
    expect((await outbox('team-ja')).map((r) => r.transition)).toEqual(['firing', 'resolved']);
    await server.shinrai.deliverer.cycle();
    const sent = receiver.received.slice(before);
    expect(sent.map((r) => r.path).sort()).toEqual(['/webhookb2/en', '/workflows/ja']);
    for (const request of sent) expect(teamsMessageProblems(JSON.parse(request.body))).toEqual([]);
    const byPath = Object.fromEntries(sent.map((r) => [r.path, r.body]));
    expect(byPath['/workflows/ja']).toContain('解決済み');
    expect(byPath['/webhookb2/en']).toContain('RESOLVED · page · api');
    expect(byPath['/webhookb2/en']).toContain('"style":"good"');
  }, 60_000);
});
