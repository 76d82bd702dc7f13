/**
 * Sharded evaluation in one process: replicas (Evaluator + shard leases) on one PostgreSQL share
 * the SLOs by lease, every status equals the reference, a replica whose lease was taken over
 * while it computed writes nothing for that shard (the fence), and a replica prunes the statuses
 * of removed SLOs in its own shards only, and one configured with another shard count waits until
 * it is alone, then splits anew. On SQLite there are no leases: one process evaluates all.
 * Heartbeats are driven by hand (their timers are far off), so nothing here waits on time.
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { type Db, openDatabase } from '../src/platform/db/database.js';
import { migrateToLatest } from '../src/platform/db/migrations.js';
import { createMetrics } from '../src/platform/metrics.js';
import { Evaluator } from '../src/slo/evaluator/evaluator.js';
import { createLeaderElection } from '../src/slo/evaluator/leader.js';
import { listStatuses } from '../src/slo/evaluator/read.js';
import { createShardOwnership, PgShardLeases } from '../src/slo/evaluator/shard-leases.js';
import { shardOf } from '../src/slo/evaluator/shards.js';
import type { Catalog } from '../src/slo/model.js';
import { createTestDatabase, DIALECTS } from './support/databases.js';
import { expectReference, shardCatalog, shardTraffic, storeTraffic } from './support/shard-specs.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 2, 14, 10, 15);
const SHARDS = 4;
const silent = pino({ level: 'silent' });

interface Replica {
  readonly evaluator: Evaluator;
  readonly leases: PgShardLeases;
  /** Runs inside the next tick after it computed, before it writes (once). */
  hold?: (() => Promise<void>) | undefined;
}

for (const dialect of DIALECTS)
  describe(`sharded evaluation on ${dialect}`, () => {
    const cleanup: Array<() => Promise<void>> = [];
    afterEach(async () => {
      for (const step of cleanup.splice(0).reverse()) await step();
    });

    async function setUp() {
      const testDb = await createTestDatabase(dialect);
      const db = openDatabase(testDb.url);
      cleanup.push(async () => {
        await db.close();
        await testDb.drop();
      });
      await migrateToLatest(db.kysely);
      const rows = shardTraffic(T0, 3);
      await storeTraffic(db, rows, T0 - 10 * MIN);
      const clock = { ms: T0, now: () => clock.ms };
      return { db, url: testDb.url, rows, clock };
    }

    async function replica(
      env: Awaited<ReturnType<typeof setUp>>,
      name: string,
      specs: () => { catalog: Catalog; version: number },
      shardCount = SHARDS,
    ): Promise<Replica> {
      const { db, url, clock } = env;
      const metrics = createMetrics();
      const shards = createShardOwnership({
        db,
        shards: shardCount,
        // Far off: the tests beat by hand.
        leaseSeconds: 300,
        heartbeatSeconds: 100,
        log: silent,
        metrics,
        replica: name,
      });
      const leader =
        dialect === 'postgres'
          ? createLeaderElection({ db, url, retrySeconds: 1, log: silent, metrics })
          : undefined;
      const r: Replica = {
        leases: shards as PgShardLeases,
        evaluator: new Evaluator({
          db,
          clock,
          log: silent,
          metrics,
          specs,
          config: { tickSeconds: 60, historyStepSeconds: 300, historyBackfillDays: 0 },
          leader,
          shards,
          dataStates: async () => {
            const hold = r.hold;
            r.hold = undefined;
            await hold?.();
            return new Map();
          },
        }),
      };
      // No start(): the tests drive ticks (and heartbeats) themselves.
      cleanup.push(() => r.evaluator.stop());
      await leader?.start();
      await shards?.start();
      return r;
    }

    async function writers(
      db: Db,
    ): Promise<Map<string, { by: string | null; epoch: number | null; atMs: number }>> {
      const rows = await db.kysely
        .selectFrom('slo_status')
        .select(['slo_id', 'evaluated_by', 'shard_epoch', 'evaluated_at'])
        .execute();
      return new Map(
        rows.map((r) => [
          r.slo_id,
          {
            by: r.evaluated_by ?? null,
            epoch: r.shard_epoch === null ? null : Number(r.shard_epoch),
            atMs: Number(r.evaluated_at),
          },
        ]),
      );
    }

    if (dialect === 'sqlite')
      it('evaluates every SLO in the one process, without leases', async () => {
        const env = await setUp();
        const catalog = shardCatalog();
        expect(
          createShardOwnership({
            db: env.db,
            shards: SHARDS,
            leaseSeconds: 15,
            heartbeatSeconds: 3,
            log: silent,
          }),
        ).toBeUndefined();
        const evaluator = new Evaluator({
          db: env.db,
          clock: env.clock,
          log: silent,
          metrics: createMetrics(),
          specs: () => ({ catalog, version: 1 }),
          config: { tickSeconds: 60, historyStepSeconds: 300, historyBackfillDays: 0 },
        });
        cleanup.push(() => evaluator.stop());
        await evaluator.tick();
        const stored = await listStatuses(env.db);
        expect(stored.size).toBe(33);
        expectReference(catalog, env.rows, stored);
        expect(evaluator.ownedShards()).toBeUndefined();
        expect([...(await writers(env.db)).values()].every((w) => w.by === null)).toBe(true);
      });
    else
      it('splits the SLOs between replicas by lease, fences a write whose lease was taken over, prunes per shard, re-splits on a new shard count', async () => {
        const env = await setUp();
        const catalog = shardCatalog();
        const specs = { catalog, version: 1 };
        const a = await replica(env, 'replica-a', () => specs);
        // Alone, A holds every shard and evaluates every SLO: the reference, written under its epochs.
        expect(a.evaluator.ownedShards()).toEqual([0, 1, 2, 3]);
        await a.evaluator.tick();
        let stored = await listStatuses(env.db);
        expect(stored.size).toBe(33);
        expectReference(catalog, env.rows, stored);
        for (const w of (await writers(env.db)).values())
          expect(w).toMatchObject({ by: 'replica-a', epoch: 1 });

        // B joins: A gives back its surplus on its next heartbeat, B takes it on its own.
        const bSpecs = { catalog, version: 1 };
        const b = await replica(env, 'replica-b', () => bSpecs);
        expect(b.evaluator.ownedShards()).toEqual([]);
        await a.leases.heartbeat();
        await b.leases.heartbeat();
        const aShards = a.evaluator.ownedShards()!;
        const bShards = b.evaluator.ownedShards()!;
        expect(aShards).toHaveLength(2);
        expect(bShards).toHaveLength(2);
        expect([...aShards, ...bShards].sort()).toEqual([0, 1, 2, 3]);

        env.clock.ms = T0 + MIN;
        await a.evaluator.tick();
        await b.evaluator.tick();
        stored = await listStatuses(env.db);
        expect(stored.size).toBe(33);
        expectReference(catalog, env.rows, stored);
        for (const [, status] of stored) expect(status.evaluatedAt).toBe(new Date(T0 + MIN).toISOString());
        const leases = await env.db.kysely.selectFrom('evaluator_shards').selectAll().execute();
        const lease = new Map(leases.map((l) => [l.shard, l]));
        // Every status was written by its shard's holder, under the epoch of its lease.
        for (const [id, w] of await writers(env.db)) {
          const l = lease.get(shardOf(id, SHARDS))!;
          expect({ id, ...w }).toMatchObject({ id, by: l.owner, epoch: Number(l.epoch) });
        }

        // B's specs lose an SLO of each replica's shards: B prunes the status of its own only.
        const ids = [...stored.keys()].filter((id) => /^s-\d\d$/.test(id));
        const ofA = ids.find((id) => aShards.includes(shardOf(id, SHARDS)))!;
        const ofB = ids.find((id) => bShards.includes(shardOf(id, SHARDS)))!;
        bSpecs.catalog = shardCatalog(30, [ofA, ofB]);
        bSpecs.version = 2;
        env.clock.ms = T0 + 2 * MIN;
        await b.evaluator.tick();
        stored = await listStatuses(env.db);
        expect(stored.has(ofB)).toBe(false);
        expect(stored.get(ofA)?.evaluatedAt).toBe(new Date(T0 + MIN).toISOString());
        bSpecs.catalog = catalog;
        bSpecs.version = 3;

        // A pauses mid-tick (computed, not written) past its lease; B sees it gone and takes its
        // shards over. A's write then passes no fence: nothing of it is stored, and A drops the shards.
        const before = await writers(env.db);
        env.clock.ms = T0 + 3 * MIN;
        a.hold = async () => {
          await env.db.kysely
            .updateTable('evaluator_replicas')
            .set({ expires_at: 0 })
            .where('replica', '=', 'replica-a')
            .execute();
          await env.db.kysely
            .updateTable('evaluator_shards')
            .set({ expires_at: 0 })
            .where('owner', '=', 'replica-a')
            .execute();
          await b.leases.heartbeat();
          expect(b.evaluator.ownedShards()).toEqual([0, 1, 2, 3]);
        };
        await a.evaluator.tick();
        expect(a.hold).toBeUndefined();
        const afterA = await writers(env.db);
        for (const id of ids.filter((id) => aShards.includes(shardOf(id, SHARDS))))
          expect({ id, ...afterA.get(id) }).toEqual({ id, ...before.get(id) });
        expect(a.evaluator.ownedShards()).toEqual([]);
        expect(a.evaluator.health().evaluating).toBe(false);

        // B evaluates every SLO from now on, under the new epochs: the reference again.
        await b.evaluator.tick();
        stored = await listStatuses(env.db);
        expect(stored.size).toBe(33);
        expectReference(catalog, env.rows, stored);
        const taken = await env.db.kysely.selectFrom('evaluator_shards').selectAll().execute();
        for (const l of taken) {
          expect(l.owner).toBe('replica-b');
          if (aShards.includes(l.shard)) expect(Number(l.epoch)).toBeGreaterThan(lease.get(l.shard)!.epoch);
        }
        for (const [id, w] of await writers(env.db)) {
          expect(w.by, id).toBe('replica-b');
          expect(w.epoch, id).toBe(Number(taken.find((l) => l.shard === shardOf(id, SHARDS))!.epoch));
        }
        // A's own next tick, and its next heartbeat (it is alive again), leave B's shards alone.
        await a.evaluator.tick();
        await a.leases.heartbeat();
        expect(a.evaluator.ownedShards()).toEqual([]);

        // A replica configured with another shard count evaluates nothing beside them (an SLO
        // would be in two shards)…
        const c = await replica(env, 'replica-c', () => specs, 8);
        expect(c.evaluator.ownedShards()).toEqual([]);
        // …until it is the only one left: the table is split anew and every lease starts over.
        await a.evaluator.stop();
        await b.evaluator.stop();
        await c.leases.heartbeat();
        expect(c.evaluator.ownedShards()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
        const resplit = await env.db.kysely
          .selectFrom('evaluator_shards')
          .selectAll()
          .orderBy('shard')
          .execute();
        expect(resplit.map((l) => l.shard)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
        for (const l of resplit.filter((l) => l.shard < SHARDS))
          expect(Number(l.epoch)).toBeGreaterThan(Number(taken.find((t) => t.shard === l.shard)!.epoch));
        env.clock.ms = T0 + 4 * MIN;
        await c.evaluator.tick();
        stored = await listStatuses(env.db);
        expect(stored.size).toBe(33);
        expectReference(catalog, env.rows, stored);
        for (const [id, w] of await writers(env.db))
          expect({ id, by: w.by }).toEqual({ id, by: 'replica-c' });
      });
  });

describe('shard leases on postgres', () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it('a replica frozen inside its write transaction keeps its shards from a takeover for no more than a lease term', async () => {
    const testDb = await createTestDatabase('postgres');
    const dbA = openDatabase(testDb.url);
    const dbB = openDatabase(testDb.url);
    cleanup.push(async () => {
      await dbA.close();
      await dbB.close();
      await testDb.drop();
    });
    await migrateToLatest(dbA.kysely);
    const leases = (db: Db, replica: string) =>
      new PgShardLeases({ db, shards: 2, leaseSeconds: 1, heartbeatSeconds: 100, log: silent, replica });
    const a = leases(dbA, 'a');
    await a.start();
    cleanup.push(() => a.stop());
    const owned = new Map(a.owned());
    expect([...owned.keys()].sort()).toEqual([0, 1]);
    let thaw!: () => void;
    const frozen = new Promise<void>((resolve) => {
      thaw = resolve;
    });
    // A fences its write (the lease rows locked), then freezes before committing.
    const write = dbA.kysely.transaction().execute(async (trx) => {
      expect([...(await a.fence(trx, owned))].sort()).toEqual([0, 1]);
      await frozen;
      await trx.selectFrom('evaluator_shards').selectAll().execute();
    });
    write.catch(() => {});
    // A's heartbeat stops too: its replica row and leases expire after the 1 s lease.
    const expired = async () =>
      Number(
        (
          await dbB.kysely
            .selectFrom('evaluator_replicas')
            .select((eb) => eb.fn.countAll().as('n'))
            .where('expires_at', '>', Date.now())
            .executeTakeFirst()
        )?.n,
      ) === 0;
    while (!(await expired())) await new Promise((r) => setTimeout(r, 100));
    const b = leases(dbB, 'b');
    cleanup.push(() => b.stop());
    // B's claims wait on A's locks until the server ends A's idle transaction, then succeed.
    await b.start();
    expect([...b.owned().keys()].sort()).toEqual([0, 1]);
    thaw();
    await expect(write).rejects.toThrow();
  });
});
