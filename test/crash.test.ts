/**
 * Crash safety: ingest continuously, kill -9 the server mid-stream, restart it, retry what was
 * not acknowledged (same Idempotency-Key), and prove every batch is counted exactly once.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/platform/db/database.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from './support/databases.js';
import { editorToken, type ShinraiProcess, spawnShinrai } from './support/process.js';
import { ratioSloYaml } from './support/specs.js';

const SPEC = ratioSloYaml('crash-availability', { service: 'crash', sli: 'crash-requests' });

function specDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'shinrai-crash-'));
  writeFileSync(join(dir, 'slo.yaml'), SPEC);
  return dir;
}

interface Batch {
  readonly key: string;
  readonly body: string;
  readonly events: number;
}

function makeBatch(index: number): Batch {
  const now = Date.now();
  // Ten minutes of counts; totals differ per batch so a double count cannot hide.
  const items = Array.from({ length: 10 }, (_, i) => ({
    ts: now - (i + 1) * 60_000,
    good: index + i,
    total: index + i + 1,
  }));
  return {
    key: `crash-${index}`,
    body: JSON.stringify(items),
    events: items.reduce((n, it) => n + it.total, 0),
  };
}

async function send(url: string, token: string, batch: Batch): Promise<boolean> {
  try {
    const response = await fetch(`${url}/api/v1/sli/crash-requests/events`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        'idempotency-key': batch.key,
      },
      body: batch.body,
    });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
}

/** The idempotency keys stored and the sum of all stored totals. */
async function stored(url: string): Promise<{ keys: Set<string>; total: number }> {
  const db = openDatabase(url);
  try {
    const row = await db.kysely
      .selectFrom('sli_minutes')
      .select(sql<number>`sum(total)`.as('total'))
      .where('sli', '=', 'crash-requests')
      .executeTakeFirstOrThrow();
    const keys = await db.kysely.selectFrom('ingest_batches').select('idempotency_key').execute();
    return { keys: new Set(keys.map((k) => k.idempotency_key)), total: Number(row.total ?? 0) };
  } finally {
    await db.close();
  }
}

describe.each(DIALECTS)('crash safety on %s', (dialect) => {
  let database: TestDatabase | undefined;
  let server: ShinraiProcess | undefined;
  afterEach(async () => {
    await server?.kill('SIGKILL');
    await database?.drop();
  });

  it('counts every acknowledged batch exactly once across kill -9 and client retries', async () => {
    database = await createTestDatabase(dialect);
    const specs = specDir();
    const token = await editorToken(database.url);
    const args = ['--db', database.url, '--specs', specs];
    server = await spawnShinrai(args);

    const batches: Batch[] = [];
    const acknowledged = new Set<string>();
    // Four concurrent writers, so the kill lands while requests are in flight.
    let stop = false;
    const writers = Array.from({ length: 4 }, async (_, writer) => {
      for (let i = 0; !stop; i++) {
        const batch = makeBatch(writer * 100_000 + i);
        batches.push(batch);
        if (await send(server!.url, token, batch)) acknowledged.add(batch.key);
      }
    });
    await new Promise((r) => setTimeout(r, 1500));
    await server.kill('SIGKILL');
    stop = true;
    await Promise.all(writers);
    expect(acknowledged.size).toBeGreaterThan(10);
    expect(acknowledged.size).toBeLessThan(batches.length + 1);

    // Before any retry: every acknowledged batch survived the kill, and what is stored is exactly
    // the batches whose keys are stored (a batch commits whole or not at all).
    const afterCrash = await stored(database.url);
    for (const key of acknowledged)
      expect(afterCrash.keys.has(key), `acknowledged ${key} was lost`).toBe(true);
    const committed = batches.filter((b) => afterCrash.keys.has(b.key));
    expect(afterCrash.total).toBe(committed.reduce((n, b) => n + b.events, 0));

    server = await spawnShinrai(args);
    // The client retries everything it sent (acknowledged or not) with the same keys.
    for (const batch of batches) expect(await send(server.url, token, batch)).toBe(true);

    const final = await stored(database.url);
    expect(final.keys.size).toBe(batches.length);
    expect(final.total).toBe(batches.reduce((n, b) => n + b.events, 0));
  });
});
