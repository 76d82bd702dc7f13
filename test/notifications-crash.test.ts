/**
 * kill -9 the leader while a notification is pending (its receiver is down): the replica that
 * takes over delivers it, once, with the same idempotency key. Real processes on PostgreSQL.
 */

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/platform/db/database.js';
import { migrateToLatest } from '../src/platform/db/migrations.js';
import { upsertBuckets } from '../src/slo/ingest/service.js';
import { createTestDatabase, type TestDatabase } from './support/databases.js';
import { type ShinraiProcess, spawnShinrai } from './support/process.js';
import { freePort } from './support/prometheus.js';
import { ratioSloYaml } from './support/specs.js';

const MIN = 60_000;

describe('a pending notification when the leader is killed', () => {
  let database: TestDatabase | undefined;
  let dir: string | undefined;
  let receiver: Server | undefined;
  const processes: ShinraiProcess[] = [];

  afterAll(async () => {
    for (const p of processes) await p.kill('SIGKILL');
    receiver?.close();
    await database?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('is delivered by the replica that takes over, once', async () => {
    database = await createTestDatabase('postgres');
    const port = await freePort();
    dir = await mkdtemp(join(tmpdir(), 'shinrai-notify-kill-'));
    await writeFile(
      join(dir, 'slo.yaml'),
      `${ratioSloYaml('api', { target: 0.999, window: '30d', service: 'shop' })}---
apiVersion: openslo/v1
kind: AlertNotificationTarget
metadata: { name: oncall, annotations: { shinrai.dev/url: 'http://127.0.0.1:${port}/hook' } }
spec: { target: webhook }
`,
    );
    // A day of clean traffic, then two minutes of errors just now: the page fires on the first tick.
    const now = Math.floor(Date.now() / MIN) * MIN;
    const db = openDatabase(database.url);
    try {
      await migrateToLatest(db.kysely);
      const rows = Array.from({ length: 1440 }, (_, i) => {
        const minuteMs = now - (1440 - i) * MIN;
        return {
          storageKey: 'api-requests',
          minuteMs,
          good: minuteMs >= now - 2 * MIN ? 0 : 1000,
          total: 1000,
        };
      });
      await upsertBuckets(db.kysely, rows, now);
    } finally {
      await db.close();
    }
    const args = ['--specs', dir, '--db', database.url];
    const env = {
      SHINRAI_ALERTING_NOTIFY: 'oncall',
      SHINRAI_EVALUATOR_TICK_SECONDS: '1',
      SHINRAI_ALERTING_DELIVERY_INTERVAL_SECONDS: '1',
      SHINRAI_EVALUATOR_LEADER_RETRY_SECONDS: '1',
    };
    const outbox = async () => {
      const reader = openDatabase(database!.url);
      try {
        return await reader.kysely.selectFrom('notification_outbox').selectAll().execute();
      } finally {
        await reader.close();
      }
    };

    const leader = await spawnShinrai(args, env);
    processes.push(leader);
    let pending: Awaited<ReturnType<typeof outbox>> = [];
    // The page, and with one day of data the ticket and budget-exhausted alerts too.
    for (
      let i = 0;
      i < 300 && !(pending.length === 3 && pending.every((r) => Number(r.attempts) >= 1));
      i++
    ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      pending = await outbox();
    }
    expect(pending.map((r) => r.transition)).toEqual(['firing', 'firing', 'firing']);
    expect(pending.every((r) => r.delivered_at === null)).toBe(true);
    await leader.kill('SIGKILL');

    const received: Array<{ key: string; status: string }> = [];
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      req.on('end', () => {
        received.push({
          key: String(req.headers['idempotency-key']),
          status: (JSON.parse(body) as { status: string }).status,
        });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => receiver!.listen(port, '127.0.0.1', resolve));

    const successor = await spawnShinrai(args, env);
    processes.push(successor);
    for (let i = 0; i < 600 && received.length < 3; i++)
      await new Promise((resolve) => setTimeout(resolve, 100));
    expect(received.map((r) => r.key).sort()).toEqual(pending.map((r) => r.id).sort());
    expect(received.every((r) => r.status === 'firing')).toBe(true);
    // Delivered means marked delivered: nothing is sent again.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(received).toHaveLength(3);
    expect((await outbox()).every((r) => r.delivered_at !== null)).toBe(true);
  }, 120_000);
});
