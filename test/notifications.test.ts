/**
 * Reliable delivery: a webhook receiver that fails every other request and goes away once gets
 * every notification, none twice per idempotency key, in order per alert, signed — on both
 * databases. Notifications are queued in the transaction of the alert transitions (the outbox).
 */

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signature } from '../src/notifications/outbox.js';
import { minuteStamp, upsertBuckets } from '../src/slo/ingest/service.js';
import { DIALECTS } from './support/databases.js';
import { ManualClock, startTestServer, type TestServer } from './support/server.js';
import { ratioSloYaml } from './support/specs.js';
import { seedRequests } from './support/traffic.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 9, 1, 0, 0);
const SECRET = 'shh-test-secret';

interface Received {
  readonly key: string;
  readonly status: string;
  readonly alert: string;
  readonly signed: boolean;
}

/** A receiver that answers 500 to every other request; `restart` closes it and listens again on the same port. */
class FlakyReceiver {
  accepted: Received[] = [];
  requests = 0;
  private server: Server | undefined;
  port = 0;

  async listen(): Promise<void> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      req.on('end', () => {
        this.requests++;
        if (this.requests % 2 === 1) {
          res.writeHead(500).end('try again');
          return;
        }
        const payload = JSON.parse(body) as { status: string; alert: { id: string } };
        const timestamp = String(req.headers['x-shinrai-timestamp']);
        this.accepted.push({
          key: String(req.headers['idempotency-key']),
          status: payload.status,
          alert: payload.alert.id,
          signed: req.headers['x-shinrai-signature'] === `sha256=${signature(SECRET, timestamp, body)}`,
        });
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
    this.server?.closeAllConnections();
  }
}

describe.each(DIALECTS)('notification delivery on %s', (dialect) => {
  let dir: string;
  let server: TestServer;
  const receiver = new FlakyReceiver();
  const clock = new ManualClock(T0);

  const traffic = (fromMs: number, minutes: number, errorRate: number) =>
    seedRequests(server.shinrai.ctx.db, { sli: 'api-requests', fromMs, minutes, errorRate, nowMs: clock.ms });
  const tickAt = async (ms: number) => {
    clock.ms = ms;
    for (let i = 0; i < 2; i++) await server.shinrai.evaluator.tick();
  };

  beforeAll(async () => {
    process.env.SHINRAI_TEST_WEBHOOK_SECRET = SECRET;
    await receiver.listen();
    dir = await mkdtemp(join(tmpdir(), 'shinrai-notify-'));
    await writeFile(
      join(dir, 'slo.yaml'),
      `${ratioSloYaml('api', { target: 0.999, window: '30d', service: 'shop' })}---
apiVersion: openslo/v1
kind: AlertNotificationTarget
metadata:
  name: oncall
  annotations:
    shinrai.dev/url: http://127.0.0.1:${receiver.port}/hook
    shinrai.dev/secret: \${SHINRAI_TEST_WEBHOOK_SECRET}
spec: { target: webhook, description: the on-call webhook }
`,
    );
    server = await startTestServer(dialect, {
      specs: dir,
      clock,
      anonymousRead: true,
      config: { 'alerting.notify': 'oncall', 'alerting.deliveryIntervalSeconds': 300 },
    });
    await traffic(T0 - 4 * 1440 * MIN, 4 * 1440, 0);
    await tickAt(T0);
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await receiver.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('delivers every firing and resolution once per key, in order, through failures and a receiver restart', async () => {
    // Three one-minute outages, each paging and then resolving: six notifications.
    let at = T0;
    for (let incident = 0; incident < 3; incident++) {
      await traffic(at, 1, 1);
      await tickAt(at + MIN);
      await traffic(at + MIN, 39, 0);
      // Past 30 minutes the bad minute has left both short windows: the page resolves.
      await tickAt(at + 35 * MIN);
      at += 40 * MIN;
    }
    const queued = await server.shinrai.ctx.db.kysely.selectFrom('notification_outbox').selectAll().execute();
    expect(queued.map((q) => q.transition)).toEqual([
      'firing',
      'resolved',
      'firing',
      'resolved',
      'firing',
      'resolved',
    ]);

    let restarted = false;
    for (let round = 0; round < 40 && receiver.accepted.length < 6; round++) {
      await server.shinrai.deliverer.cycle();
      if (!restarted && receiver.accepted.length >= 2) {
        // The receiver goes away for two delivery rounds, then comes back on the same port.
        await receiver.close();
        for (let i = 0; i < 2; i++) {
          clock.advance(15 * MIN);
          await server.shinrai.deliverer.cycle();
        }
        await receiver.listen();
        restarted = true;
      }
      clock.advance(15 * MIN); // past any backoff
    }
    expect(restarted).toBe(true);
    expect(receiver.accepted).toHaveLength(6);
    expect(new Set(receiver.accepted.map((r) => r.key)).size).toBe(6);
    expect(receiver.accepted.map((r) => r.status)).toEqual([
      'firing',
      'resolved',
      'firing',
      'resolved',
      'firing',
      'resolved',
    ]);
    expect(receiver.accepted.every((r) => r.signed)).toBe(true);
    expect(receiver.requests).toBeGreaterThan(6);
    const rows = await server.shinrai.ctx.db.kysely.selectFrom('notification_outbox').selectAll().execute();
    expect(rows.every((r) => r.delivered_at !== null && r.gave_up_at === null)).toBe(true);
    expect(rows.some((r) => Number(r.attempts) > 1)).toBe(true);
    const metrics = await (await server.request('GET', '/metrics')).text();
    expect(metrics).toMatch(/shinrai_notifications_total\{target="oncall",outcome="delivered"\} 6/);
    expect(metrics).toMatch(/shinrai_notifications_total\{target="oncall",outcome="failed"\} [1-9]/);
  }, 120_000);

  it('sends nothing for a silenced alert, shows it as silenced, and checks silences', async () => {
    const editor = await server.token('editor');
    const before = (
      await server.shinrai.ctx.db.kysely.selectFrom('notification_outbox').select('id').execute()
    ).length;
    const created = await server.request('POST', '/api/v1/silences', {
      token: editor,
      body: {
        matchers: [{ label: 'slo', value: 'ap.*', regex: true }],
        endsAt: new Date(clock.ms + 24 * 60 * MIN).toISOString(),
        comment: 'planned failover test',
      },
    });
    expect(created.status).toBe(201);
    const silence = (await created.json()) as { id: string; createdBy: string };
    expect(silence.createdBy).toMatch(/^editor-/);

    const at = clock.ms;
    await traffic(at, 1, 1);
    await tickAt(at + MIN);
    const after = (
      await server.shinrai.ctx.db.kysely.selectFrom('notification_outbox').select('id').execute()
    ).length;
    expect(after).toBe(before);
    const silenced = (await (await server.request('GET', '/api/v1/alerts?state=silenced')).json()) as Array<{
      state: string;
      silencedBy: string[];
    }>;
    // After hours without data the outage minute is all there is, so the ticket fires too: both are muted.
    expect(silenced.map((a) => a.state)).toContain('firing');
    for (const a of silenced) expect(a.silencedBy).toEqual([silence.id]);

    expect((await server.request('DELETE', `/api/v1/silences/${silence.id}`, { token: editor })).status).toBe(
      204,
    );
    expect((await server.request('DELETE', `/api/v1/silences/${silence.id}`, { token: editor })).status).toBe(
      404,
    );
    const [active] = (await (await server.request('GET', '/api/v1/alerts')).json()) as Array<{
      silencedBy: string[];
    }>;
    expect(active!.silencedBy).toEqual([]);

    const bad = await server.request('POST', '/api/v1/silences', {
      token: editor,
      body: {
        matchers: [{ label: 'slo', value: '(', regex: true }],
        endsAt: new Date(clock.ms - MIN).toISOString(),
        comment: 'x',
      },
    });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
    const problem = (await bad.json()) as { errors: Array<{ field: string }> };
    expect(problem.errors.map((e) => e.field)).toEqual(['matchers.0.value', 'endsAt']);
    // RE2 semantics, as Alertmanager: lookaround is refused by name, a catastrophic pattern is fine.
    const perlOnly = await server.request('POST', '/api/v1/silences', {
      token: editor,
      body: {
        matchers: [
          { label: 'slo', value: '(.|.)*(.|.)*Z', regex: true },
          { label: 'tier', value: '(?!page).*', regex: true },
        ],
        endsAt: new Date(clock.ms + MIN).toISOString(),
        comment: 'x',
      },
    });
    expect(perlOnly.status).toBe(400);
    expect(((await perlOnly.json()) as { detail: string }).detail).toMatch(
      /matchers\.1\.value is not a usable RE2 regular expression: .*unsupported Perl syntax/,
    );
    const anonymous = await server.request('POST', '/api/v1/silences', {
      body: { matchers: [], endsAt: 'x', comment: '' },
    });
    expect(anonymous.status).toBe(401);
  });
});

describe('notifications pending when the leader stops (PostgreSQL replicas)', () => {
  const receiver = new FlakyReceiver();
  const clock = new ManualClock(T0);
  let dir: string;
  let first: TestServer;
  let second: TestServer | undefined;

  afterAll(async () => {
    await second?.close();
    await first?.database.drop();
    await receiver.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('are delivered by the replica that takes over', async () => {
    // Learn a free port, then go away: the receiver is down while the first leader tries.
    await receiver.listen();
    await receiver.close();
    process.env.SHINRAI_TEST_WEBHOOK_SECRET = SECRET;
    dir = await mkdtemp(join(tmpdir(), 'shinrai-notify-failover-'));
    await writeFile(
      join(dir, 'slo.yaml'),
      `${ratioSloYaml('api', { target: 0.999, window: '30d', service: 'shop' })}---
apiVersion: openslo/v1
kind: AlertNotificationTarget
metadata: { name: oncall, annotations: { shinrai.dev/url: 'http://127.0.0.1:${receiver.port}/hook' } }
spec: { target: webhook }
`,
    );
    const options = {
      specs: dir,
      clock,
      anonymousRead: true,
      config: {
        'alerting.notify': 'oncall',
        'alerting.deliveryIntervalSeconds': 300,
        'evaluator.leaderRetrySeconds': 0.2,
      },
    };
    first = await startTestServer('postgres', options);
    const db = first.shinrai.ctx.db;
    const minutes = (fromMs: number, n: number, errorRate: number) =>
      Array.from({ length: n }, (_, i) => ({
        storageKey: 'api-requests',
        minuteMs: fromMs + i * MIN,
        good: 1000 * (1 - errorRate),
        total: 1000,
      }));
    await upsertBuckets(
      db.kysely,
      [...minutes(T0 - 1440 * MIN, 1440, 0), ...minutes(T0, 1, 1)],
      minuteStamp(db, T0),
    );
    clock.ms = T0 + MIN;
    for (let i = 0; i < 3; i++) await first.shinrai.evaluator.tick();
    await first.shinrai.deliverer.cycle();
    const pending = await db.kysely.selectFrom('notification_outbox').selectAll().execute();
    expect(pending).toHaveLength(1);
    expect(pending[0]!.delivered_at).toBeNull();
    expect(Number(pending[0]!.attempts)).toBeGreaterThanOrEqual(1);

    // The leader stops; a second replica on the same database takes over and delivers.
    await first.shinrai.stop();
    await receiver.listen();
    second = await startTestServer('postgres', { ...options, database: first.database });
    for (let i = 0; i < 50 && !second.shinrai.evaluator.isLeader(); i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(second.shinrai.evaluator.isLeader()).toBe(true);
    for (let round = 0; round < 10 && receiver.accepted.length === 0; round++) {
      clock.advance(15 * MIN);
      await second.shinrai.deliverer.cycle();
    }
    expect(receiver.accepted.map((r) => r.status)).toEqual(['firing']);
    expect(receiver.accepted[0]!.key).toBe(pending[0]!.id);
  }, 60_000);
});
