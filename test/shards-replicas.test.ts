/**
 * Three `shinrai serve` processes on one PostgreSQL share the evaluation by shard lease: each holds
 * a third of the shards, every SLO gets its reference status from the holder of its shard, and
 * when one is killed (kill -9) the other two take its shards over within the 30 s. A
 * watcher reads every status write meanwhile: under each shard lease epoch only one replica ever
 * writes, and once a newer epoch wrote an SLO no older one writes it again.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Db, openDatabase } from '../src/platform/db/database.js';
import { migrateToLatest } from '../src/platform/db/migrations.js';
import { listStatuses } from '../src/slo/evaluator/read.js';
import { shardOf } from '../src/slo/evaluator/shards.js';
import { createTestDatabase, type TestDatabase } from './support/databases.js';
import { type ShinraiProcess, spawnShinrai } from './support/process.js';
import {
  expectReference,
  shardCatalog,
  shardSpecText,
  shardTraffic,
  storeTraffic,
} from './support/shard-specs.js';

const SHARDS = 12;
const SLOS = 33;

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

interface Lease {
  shard: number;
  owner: string | null;
  epoch: number;
}

async function leases(db: Db): Promise<Lease[]> {
  const rows = await db.kysely
    .selectFrom('evaluator_shards')
    .select(['shard', 'owner', 'epoch'])
    .where('expires_at', '>', Date.now())
    .orderBy('shard')
    .execute();
  return rows.map((r) => ({ shard: r.shard, owner: r.owner, epoch: Number(r.epoch) }));
}

/** Owner → shards, when every shard is held and `owners` replicas hold equal shares. */
async function balanced(db: Db, owners: number): Promise<Map<string, number[]> | undefined> {
  const held = await leases(db);
  if (held.length !== SHARDS || held.some((l) => l.owner === null)) return undefined;
  const by = new Map<string, number[]>();
  for (const l of held) by.set(l.owner!, [...(by.get(l.owner!) ?? []), l.shard]);
  if (by.size !== owners || [...by.values()].some((s) => s.length !== SHARDS / owners)) return undefined;
  return by;
}

async function readyShards(server: ShinraiProcess): Promise<number[]> {
  const ready = (await (await fetch(`${server.url}/readyz`)).json()) as {
    evaluation?: { shards?: number[] };
  };
  return ready.evaluation?.shards ?? [];
}

describe('sharded evaluation across replica processes', () => {
  let database: TestDatabase | undefined;
  let db: Db | undefined;
  const servers: ShinraiProcess[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'shinrai-shards-'));
  let watching = false;
  let watcher: Promise<void> | undefined;
  afterAll(async () => {
    watching = false;
    await watcher;
    for (const server of servers.splice(0)) await server.kill('SIGKILL');
    await db?.close();
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives each replica a third of the shards, and the survivors a dead one’s within 30 s', async () => {
    database = await createTestDatabase('postgres');
    db = openDatabase(database.url);
    await migrateToLatest(db.kysely);
    const rows = shardTraffic(Date.now(), 3);
    await storeTraffic(db, rows, Date.now());
    writeFileSync(join(dir, 'slos.yaml'), shardSpecText());
    const catalog = shardCatalog();

    // Every status write, as a watcher reading slo_status every 100 ms sees it.
    const seen = new Map<string, Map<number, { by: string; epoch: number }>>();
    watching = true;
    watcher = (async () => {
      while (watching) {
        const statuses = await db!.kysely
          .selectFrom('slo_status')
          .select(['slo_id', 'evaluated_at', 'evaluated_by', 'shard_epoch'])
          .execute();
        for (const s of statuses) {
          const writes = seen.get(s.slo_id) ?? new Map();
          writes.set(Number(s.evaluated_at), { by: s.evaluated_by ?? '', epoch: Number(s.shard_epoch) });
          seen.set(s.slo_id, writes);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    const env = {
      SHINRAI_EVALUATOR_TICK_SECONDS: '1',
      SHINRAI_EVALUATOR_LEADER_RETRY_SECONDS: '1',
      SHINRAI_EVALUATOR_SHARDS: String(SHARDS),
      SHINRAI_EVALUATOR_SHARD_LEASE_SECONDS: '4',
      SHINRAI_EVALUATOR_SHARD_HEARTBEAT_SECONDS: '1',
    };
    const args = ['--db', database.url, '--specs', dir, '--anonymous-read'];
    servers.push(...(await Promise.all([1, 2, 3].map(() => spawnShinrai(args, env)))));

    // A third each, and each replica says which on /readyz and /metrics.
    const three = await waitFor('three replicas hold 4 shards each', () => balanced(db!, 3), 20_000);
    const owners = new Map<ShinraiProcess, string>();
    for (const server of servers) {
      const shards = await readyShards(server);
      const owner = [...three].find(([, s]) => s.join() === shards.join())?.[0];
      expect(owner, `${server.url} holds ${shards}`).toBeDefined();
      owners.set(server, owner!);
      expect(await (await fetch(`${server.url}/metrics`)).text()).toMatch(
        /^shinrai_evaluator_shards_owned 4$/m,
      );
    }
    expect(new Set(owners.values()).size).toBe(3);

    // Every SLO gets fresh statuses, each from its shard's holder, each the reference.
    const balancedAt = Date.now();
    const fresh = async (sinceMs: number) => {
      const stored = await listStatuses(db!);
      if (stored.size !== SLOS) return undefined;
      return [...stored.values()].every((s) => Date.parse(s.evaluatedAt) > sinceMs) ? stored : undefined;
    };
    expectReference(catalog, rows, await waitFor('every SLO evaluated', () => fresh(balancedAt), 10_000));

    const victim = servers[0]!;
    const dead = owners.get(victim)!;
    await victim.kill('SIGKILL');
    const killedAt = Date.now();
    const two = await waitFor('the two survivors hold 6 shards each', () => balanced(db!, 2), 30_000);
    const tookMs = Date.now() - killedAt;
    expect([...two.keys()]).not.toContain(dead);
    // The bound, as a limit on waiting above; the figure for the docs:
    console.log(`shards of the killed replica held by the survivors ${tookMs} ms after kill -9`);
    const movedAt = Date.now();
    const after = await waitFor('every SLO evaluated after the takeover', () => fresh(movedAt), 10_000);
    expectReference(catalog, rows, after);
    for (const server of servers.slice(1)) expect(await readyShards(server)).toHaveLength(6);

    watching = false;
    await watcher;
    const byEpoch = new Map<string, string>();
    for (const [slo, writes] of seen) {
      const shard = shardOf(slo, SHARDS);
      let newest = 0;
      for (const [, w] of [...writes].sort((a, b) => a[0] - b[0])) {
        // One writer per (shard, epoch): a lease is never held by two replicas at once.
        const key = `${shard}/${w.epoch}`;
        expect(byEpoch.get(key) ?? w.by, `${slo} at epoch ${key}`).toBe(w.by);
        byEpoch.set(key, w.by);
        // Never an older epoch after a newer one: a replica whose lease moved wrote nothing more.
        expect(w.epoch, slo).toBeGreaterThanOrEqual(newest);
        newest = w.epoch;
      }
      // The dead replica's SLOs went on with a survivor.
      const writers = [...writes].sort((a, b) => a[0] - b[0]).map(([, w]) => w.by);
      expect(writers.at(-1), slo).not.toBe(dead);
      if (three.get(dead)!.includes(shard)) expect(writers, slo).toContain(dead);
    }
  });
});
