/**
 * Sharded evaluation: N SLOs on R replicas (evaluators with shard leases) on one PostgreSQL, each
 * tick's CPU per replica, against one unsharded evaluator doing all N in the same run. The
 * replicas share this process (each with its own connection pool, leases and engines) and tick one
 * after the other, so each one's CPU is measured alone; their lease heartbeats are driven by the
 * bench (a heartbeat timer would fire in the middle of another replica's tick). Checks (fail the
 * run): the replicas hold equal shares within one; in every tick every SLO is written exactly once,
 * by the holder of its shard under its lease epoch; a sample of statuses equals the from-scratch
 * report. Flags: --slos N (30000), --replicas R (3), --shards S (60), --hours H (3) of stored
 * minutes per SLI, --ticks T (5, after 2 warm-up ticks).
 */
import pino from 'pino';
import { AlertService } from '../src/alerting/service.js';
import { DEFAULT_MIN_EVENTS } from '../src/platform/config.js';
import { type Db, openDatabase } from '../src/platform/db/database.js';
import { migrateToLatest } from '../src/platform/db/migrations.js';
import { createMetrics } from '../src/platform/metrics.js';
import { Evaluator } from '../src/slo/evaluator/evaluator.js';
import { createLeaderElection, type LeaderElection } from '../src/slo/evaluator/leader.js';
import { PgShardLeases } from '../src/slo/evaluator/shard-leases.js';
import { shardOf } from '../src/slo/evaluator/shards.js';
import { loadSpecText } from '../src/slo/spec/load.js';
import { createTestDatabase } from '../test/support/databases.js';
import { check } from './check.js';
import { checkStatuses, fillSql, growLastMinute, median, ms, specs } from './evaluator.bench.js';
import { intFlag } from './flags.js';
import type { BenchFlags } from './run.js';

const MIN = 60_000;
const WARMUP_TICKS = 2;

interface TickLog {
  tookMs: number;
  slos: number;
  waitingBackfills: number;
  waitingRebuilds?: number;
  restoredEngines?: number;
}

interface Replica {
  readonly name: string;
  readonly db: Db;
  readonly evaluator: Evaluator;
  readonly leader: LeaderElection;
  readonly leases: PgShardLeases | undefined;
  readonly ticks: TickLog[];
}

export async function run(flags: BenchFlags): Promise<void> {
  const slos = intFlag(flags, 'slos', 30_000);
  const replicas = intFlag(flags, 'replicas', 3);
  const shards = intFlag(flags, 'shards', 60);
  const hours = intFlag(flags, 'hours', 3);
  const ticks = intFlag(flags, 'ticks', 5);
  const testDb = await createTestDatabase('postgres');
  const db = openDatabase(testDb.url);
  const all: Replica[] = [];
  try {
    await migrateToLatest(db.kysely);
    const lastMinute = Math.floor(Date.UTC(2026, 2, 14, 10, 0) / MIN);
    const fillStart = performance.now();
    await fillSql(slos, lastMinute - hours * 60, lastMinute).execute(db.kysely);
    const fillSeconds = (performance.now() - fillStart) / 1000;
    const loaded = loadSpecText('bench.yaml', specs(slos));
    const errors = loaded.diagnostics.filter((d) => d.severity === 'error');
    if (errors.length) throw new Error(`bench specs: ${errors[0]!.message}`);
    const catalog = () => ({ catalog: loaded.catalog, version: 1 });
    const clock = { ms: lastMinute * MIN + 5_000, now: () => clock.ms };

    async function replica(name: string, sharded: boolean): Promise<Replica> {
      const own = openDatabase(testDb.url);
      const seen: TickLog[] = [];
      const log = pino(
        { level: 'debug' },
        {
          write: (line: string) => {
            const entry = JSON.parse(line) as TickLog & { msg: string };
            if (entry.msg === 'evaluation tick') seen.push(entry);
          },
        },
      );
      const metrics = createMetrics();
      const leader = createLeaderElection({ db: own, url: testDb.url, retrySeconds: 5, log, metrics });
      // Heartbeats by hand (see the header): the lease outlives the run.
      const leases = sharded
        ? new PgShardLeases({
            db: own,
            shards,
            leaseSeconds: 3600,
            heartbeatSeconds: 1800,
            log,
            metrics,
            replica: name,
          })
        : undefined;
      const alerts = new AlertService({ log, specs: catalog, minEvents: DEFAULT_MIN_EVENTS });
      const evaluator = new Evaluator({
        db: own,
        clock,
        log,
        metrics,
        specs: catalog,
        config: { tickSeconds: 30, historyStepSeconds: 300, historyBackfillDays: 0 },
        leader,
        shards: leases,
        withStatuses: (trx, statuses, nowMs) => alerts.step(trx, statuses, nowMs),
      });
      await leader.start();
      await leases?.start();
      const r = { name, db: own, evaluator, leader, leases, ticks: seen };
      all.push(r);
      return r;
    }

    /** Ticks back to back until every engine is ready; returns the wall time. */
    async function settle(r: Replica): Promise<number> {
      const startMs = performance.now();
      do await r.evaluator.tick();
      while (r.ticks.at(-1)?.waitingBackfills || r.ticks.at(-1)?.waitingRebuilds);
      return performance.now() - startMs;
    }

    // The replicas join, then beat until the shares settle (planLeases: two rounds).
    const group: Replica[] = [];
    for (let i = 0; i < replicas; i++) group.push(await replica(`replica-${i + 1}`, true));
    for (let round = 0; round < 3; round++) for (const r of group) await r.leases!.heartbeat();
    const held = group.map((r) => r.evaluator.ownedShards()!.length);
    check(
      held.reduce((a, b) => a + b, 0) === shards && Math.max(...held) - Math.min(...held) <= 1,
      `${replicas} replicas hold all ${shards} shards, equal shares within one`,
      held.join(' / '),
    );
    const startup = [];
    for (const r of group) startup.push(await settle(r));

    const cpu = group.map(() => [] as number[]);
    const slosPerReplica = group.map(() => 0);
    let everyTickOnce = true;
    for (let t = 0; t < WARMUP_TICKS + ticks; t++) {
      clock.ms += 30_000;
      await growLastMinute(db, slos, clock.ms);
      for (const [i, r] of group.entries()) {
        const before = r.ticks.length;
        const used = process.cpuUsage();
        await r.evaluator.tick();
        const spent = process.cpuUsage(used);
        const line = r.ticks[before];
        if (!line) throw new Error(`${r.name}: a tick did not evaluate (see the log)`);
        slosPerReplica[i] = line.slos;
        if (t >= WARMUP_TICKS) cpu[i]!.push((spent.user + spent.system) / 1000);
      }
      // Every SLO written in this tick, once, by its shard's holder under its epoch.
      everyTickOnce &&= await writtenOnceByHolders(db, slos, shards, clock.ms);
    }
    check(
      everyTickOnce && slosPerReplica.reduce((a, b) => a + b, 0) === slos,
      `every tick, each of the ${slos} SLOs evaluated by exactly one replica (the holder of its shard, under its lease epoch)`,
      `SLOs per replica: ${slosPerReplica.join(' / ')}`,
    );
    await checkStatuses(db, 'postgres (sharded)', loaded.catalog, clock.ms);
    for (const r of group.splice(0)) await r.evaluator.stop();

    // Baseline in the same run: one evaluator (no shards) takes over all SLOs from the checkpoints.
    const single = await replica('single', false);
    const takeover = await settle(single);
    const singleCpu: number[] = [];
    for (let t = 0; t < WARMUP_TICKS + ticks; t++) {
      clock.ms += 30_000;
      await growLastMinute(db, slos, clock.ms);
      const used = process.cpuUsage();
      await single.evaluator.tick();
      const spent = process.cpuUsage(used);
      if (t >= WARMUP_TICKS) singleCpu.push((spent.user + spent.system) / 1000);
    }
    await checkStatuses(db, 'postgres (one evaluator)', loaded.catalog, clock.ms);

    const baseline = median(singleCpu);
    console.log(
      `postgres: ${slos.toLocaleString('en')} SLOs × ${hours} h of stored minutes (filled in ${fillSeconds.toFixed(1)} s), ${replicas} replicas, ${shards} shards (held ${held.join(' / ')})`,
    );
    for (const [i, r] of all.slice(0, replicas).entries())
      console.log(
        `  ${r.name}: ${slosPerReplica[i]!.toLocaleString('en')} SLOs, start-up ${ms(startup[i]!)} ms, steady tick CPU median ${ms(median(cpu[i]!))} ms (all: ${cpu[i]!.map(ms).join(', ')}) = ${(median(cpu[i]!) / baseline).toFixed(2)}× one evaluator's`,
      );
    console.log(
      `  baseline, one evaluator for all ${slos.toLocaleString('en')}: takeover ${ms(takeover)} ms (${single.ticks.reduce((n, t) => n + (t.restoredEngines ?? 0), 0).toLocaleString('en')} engines restored), steady tick CPU median ${ms(baseline)} ms (all: ${singleCpu.map(ms).join(', ')})`,
    );
  } finally {
    for (const r of all) {
      await r.evaluator.stop();
      await r.db.close();
    }
    await db.close();
    await testDb.drop();
  }
}

/** True when every SLO's status is of `atMs` and was written by the holder of its shard, under the lease's epoch. */
async function writtenOnceByHolders(db: Db, slos: number, shards: number, atMs: number): Promise<boolean> {
  const leases = new Map(
    (await db.kysely.selectFrom('evaluator_shards').select(['shard', 'owner', 'epoch']).execute()).map(
      (l) => [l.shard, l],
    ),
  );
  const rows = await db.kysely
    .selectFrom('slo_status')
    .select(['slo_id', 'evaluated_at', 'evaluated_by', 'shard_epoch'])
    .execute();
  const wrong = rows.filter((row) => {
    const lease = leases.get(shardOf(row.slo_id, shards));
    return (
      Number(row.evaluated_at) !== atMs ||
      row.evaluated_by !== lease?.owner ||
      Number(row.shard_epoch) !== Number(lease?.epoch)
    );
  });
  if (rows.length !== slos || wrong.length)
    console.log(
      `  tick at ${new Date(atMs).toISOString()}: ${rows.length} statuses, ${wrong.length} not of this tick by the holder`,
    );
  return rows.length === slos && wrong.length === 0;
}
