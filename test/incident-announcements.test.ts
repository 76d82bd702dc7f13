/**
 * Incident announcements through the notification outbox, on both databases: `incidents.announce`
 * names a Japanese Teams target, a Slack incoming webhook and a generic webhook (all local
 * receivers). Declaring through the API queues one announcement per target in the declaration's
 * transaction; the Teams receiver first fails with a 500, the retry delivers the same card (one
 * idempotency key, one body), which passes the Adaptive Card checks and is in Japanese; a further
 * pass sends nothing again.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { teamsMessageProblems } from './support/adaptive-cards.js';
import { DIALECTS } from './support/databases.js';
import { json, ManualClock, startTestServer, type TestServer } from './support/server.js';

const T0 = Date.UTC(2026, 9, 1, 0, 0);

interface Received {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly status: number;
}

describe.each(DIALECTS)('incident announcements on %s', (dialect) => {
  const received: Received[] = [];
  const failures = new Map<string, number>();
  let receiver: Server;
  let dir: string;
  let server: TestServer;
  const clock = new ManualClock(T0);
  const at = (path: string) => received.filter((r) => r.path === path);

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      req.on('end', () => {
        const path = new URL(req.url ?? '/', 'http://x').pathname;
        const failing = failures.get(path) ?? 0;
        if (failing > 0) failures.set(path, failing - 1);
        const status = failing > 0 ? 500 : 202;
        received.push({ path, headers: req.headers, body, status });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    dir = await mkdtemp(join(tmpdir(), 'shinrai-announce-'));
    const configFile = join(dir, 'shinrai.yaml');
    await writeFile(
      configFile,
      `notificationTargets:
  team-ja:
    target: teams
    url: ${base}/workflows/ja
    language: ja
  chat:
    target: slack
    url: ${base}/slack
  hook:
    target: webhook
    url: ${base}/hook
incidents:
  announce: team-ja,chat,hook
`,
    );
    server = await startTestServer(dialect, { configFile, clock });
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    receiver?.closeAllConnections();
    await new Promise<void>((resolve) => receiver?.close(() => resolve()));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('announces a declared incident once per target, as a valid Japanese card to Teams, across a retry', async () => {
    failures.set('/workflows/ja', 1);
    const token = await server.token('editor');
    const declared = await server.request('POST', '/api/v1/incidents', {
      token,
      body: { title: 'Checkout errors <EU>', severity: 'SEV1', summary: 'Payments fail for 30% of users.' },
    });
    expect(declared.status).toBe(201);
    const incident = await json(declared);

    await server.shinrai.deliverer.cycle();
    expect(at('/workflows/ja').map((r) => r.status)).toEqual([500]);
    expect(at('/slack')).toHaveLength(1);
    expect(at('/hook')).toHaveLength(1);
    clock.advance(10 * 60_000);
    await server.shinrai.deliverer.cycle();
    await server.shinrai.deliverer.cycle();

    const teams = at('/workflows/ja');
    expect(teams.map((r) => r.status)).toEqual([500, 202]);
    expect(new Set(teams.map((r) => r.body)).size).toBe(1);
    expect(new Set(teams.map((r) => r.headers['idempotency-key'])).size).toBe(1);
    const message = JSON.parse(teams[1]!.body);
    expect(teamsMessageProblems(message)).toEqual([]);
    const card = message.attachments[0].content;
    const text = JSON.stringify(card);
    expect(text).toContain(incident.reference);
    expect(text).toContain('インシデント宣言');
    expect(text).toContain('重大度');
    expect(text).toContain('Payments fail for 30% of users.');

    const slack = JSON.parse(at('/slack')[0]!.body);
    expect(slack.text).toContain(`${incident.reference} [SEV1] Checkout errors &lt;EU&gt;`);
    const hook = JSON.parse(at('/hook')[0]!.body);
    expect(hook).toMatchObject({
      version: 1,
      kind: 'incident',
      event: 'declared',
      incident: { reference: incident.reference, title: 'Checkout errors <EU>', severity: 'SEV1' },
    });
    expect(at('/hook')[0]!.headers['idempotency-key']).toBe(hook.id);

    // Changes are not announced again, and a further pass sends nothing.
    await server.request('PATCH', `/api/v1/incidents/${incident.reference}`, {
      token,
      body: { status: 'identified' },
    });
    const before = received.length;
    clock.advance(60 * 60_000);
    await server.shinrai.deliverer.cycle();
    expect(received.length).toBe(before);
  });
});

describe('incidents.announce naming no target', () => {
  it('is said in the log at start, not discovered hours later as a given-up notification', async () => {
    const lines: string[] = [];
    const server = await startTestServer('sqlite', {
      config: { 'incidents.announce': 'nosuch' },
      log: pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) }),
    });
    await server.close();
    expect(lines.join('\n')).toContain('incidents.announce names no notification target: nosuch');
  });
});
