/**
 * `shinrai serve` on SIGTERM (docs/operations.md#stopping): a request in flight when the signal
 * arrives still gets its answer, no new connection is served, the process exits 0; past
 * server.shutdownSeconds it names what was still running and exits 1; a second signal stops at
 * once; and on PostgreSQL the leader hands the advisory lock over as it stops.
 */

import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/platform/db/database.js';
import { createTestDatabase, type TestDatabase } from './support/databases.js';
import { editorToken, type ShinraiProcess, spawnShinrai } from './support/process.js';
import { ratioSloYaml } from './support/specs.js';

const SLI = 'drain-requests';

function specDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'shinrai-drain-'));
  writeFileSync(join(dir, 'slo.yaml'), ratioSloYaml('drain-availability', { service: 'drain', sli: SLI }));
  return dir;
}

function exited(server: ShinraiProcess): Promise<number | null> {
  const { child } = server;
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/**
 * An ingestion batch whose body the test sends in two parts: `started` resolves once the server
 * has read the headers and handed the request to Fastify (its "100 Continue"), `finish()` sends
 * the rest, and `answer` is the status code.
 */
function slowBatch(baseUrl: string, token: string) {
  const url = new URL(`/api/v1/sli/${SLI}/events`, baseUrl);
  const items = JSON.stringify([{ ts: Date.now() - 120_000, good: 7, total: 9 }]);
  const half = Math.floor(items.length / 2);
  let answered: (status: number) => void;
  let failed: (error: Error) => void;
  const answer = new Promise<number>((resolve, reject) => {
    answered = resolve;
    failed = reject;
  });
  const req = request(url, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      'idempotency-key': 'drain-1',
      'content-length': String(Buffer.byteLength(items)),
      expect: '100-continue',
    },
  });
  const started = new Promise<void>((resolve) => {
    req.once('continue', () => {
      req.write(items.slice(0, half));
      resolve();
    });
  });
  req.on('response', (response) => {
    response.resume();
    response.on('end', () => answered(response.statusCode ?? 0));
  });
  req.on('error', (error) => failed(error));
  req.flushHeaders();
  return { started, answer, finish: () => req.end(items.slice(half)) };
}

/** Resolves once a new connection to the server is refused or answered 503 (it has stopped taking work). */
async function stoppedAccepting(url: string): Promise<void> {
  for (;;) {
    try {
      const response = await fetch(`${url}/readyz`);
      await response.arrayBuffer();
      if (response.status === 503) return;
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('serve on SIGTERM (SQLite)', () => {
  let database: TestDatabase;
  let token: string;
  const specs = specDir();
  let server: ShinraiProcess | undefined;
  beforeAll(async () => {
    database = await createTestDatabase('sqlite');
    token = await editorToken(database.url);
  });
  afterEach(async () => {
    await server?.kill('SIGKILL');
    server = undefined;
  });
  afterAll(() => database.drop());

  it('finishes the request in flight, stops accepting, and exits 0', async () => {
    server = await spawnShinrai(['--db', database.url, '--specs', specs]);
    const batch = slowBatch(server.url, token);
    await batch.started;
    const exit = exited(server);
    server.child.kill('SIGTERM');
    await stoppedAccepting(server.url);
    batch.finish();
    expect(await batch.answer).toBe(200);
    expect(await exit).toBe(0);
    expect(server.stderr()).toMatch(/SIGTERM: stopping/);

    const db = openDatabase(database.url);
    try {
      const row = await db.kysely
        .selectFrom('sli_minutes')
        .select(sql<number>`sum(total)`.as('total'))
        .where('sli', '=', SLI)
        .executeTakeFirst();
      expect(Number(row?.total)).toBe(9);
    } finally {
      await db.close();
    }
  });

  it('exits 1 naming the request still running when server.shutdownSeconds passes', async () => {
    server = await spawnShinrai(['--db', database.url, '--specs', specs], {
      SHINRAI_SERVER_SHUTDOWN_SECONDS: '1',
    });
    const batch = slowBatch(server.url, token);
    batch.answer.catch(() => {});
    await batch.started;
    const exit = exited(server);
    server.child.kill('SIGTERM');
    expect(await exit).toBe(1);
    expect(server.stderr()).toMatch(
      new RegExp(`did not finish within 1 s.*still running: .*request: POST /api/v1/sli/${SLI}/events`),
    );
  });

  it('stops at once on a second signal', async () => {
    server = await spawnShinrai(['--db', database.url, '--specs', specs]);
    const batch = slowBatch(server.url, token);
    batch.answer.catch(() => {});
    await batch.started;
    const exit = exited(server);
    server.child.kill('SIGTERM');
    await stoppedAccepting(server.url);
    server.child.kill('SIGINT');
    expect(await exit).toBe(130);
    expect(server.stderr()).toMatch(
      /second signal \(SIGINT\): exiting at once; still running: .*request: POST/,
    );
  });
});

describe('serve on SIGTERM (PostgreSQL, two replicas)', () => {
  let database: TestDatabase;
  const servers: ShinraiProcess[] = [];
  afterAll(async () => {
    for (const server of servers) await server.kill('SIGKILL');
    await database?.drop();
  });

  async function leads(server: ShinraiProcess): Promise<boolean> {
    const response = await fetch(`${server.url}/readyz`);
    return response.status === 200 && ((await response.json()) as { leader?: boolean }).leader === true;
  }

  async function until(condition: () => Promise<boolean>): Promise<void> {
    while (!(await condition())) await new Promise((r) => setTimeout(r, 100));
  }

  it('hands leadership to the follower as the leader stops, and the leader exits 0', async () => {
    database = await createTestDatabase('postgres');
    const args = ['--db', database.url, '--specs', specDir(), '--anonymous-read'];
    const env = { SHINRAI_EVALUATOR_LEADER_RETRY_SECONDS: '0.2', SHINRAI_EVALUATOR_TICK_SECONDS: '1' };
    const first = await spawnShinrai(args, env);
    servers.push(first);
    await until(() => leads(first));
    const second = await spawnShinrai(args, env);
    servers.push(second);
    expect(await leads(second)).toBe(false);

    const exit = exited(first);
    first.child.kill('SIGTERM');
    expect(await exit).toBe(0);
    // The lock was released by the stop (not left for PostgreSQL to notice a dead session), so
    // the follower's next attempt, 0.2 s away, takes it.
    await until(() => leads(second));
    expect(first.stderr()).toMatch(/stopped/);
  });
});
