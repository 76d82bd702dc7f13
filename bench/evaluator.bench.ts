/**
 * Evaluator: cost of one tick for N SLOs on a real database — the change feed, the engines and the
 * status write — after a start-up backfill of D days of one-minute data, and the history backfill
 * that replays those D days into `slo_history`. Each steady tick follows 30 s of ingestion (every
 * SLI's current minute grows). Flags: --slos N (1000), --days D (2), --ticks T (10, after 2
 * warm-up ticks), --db sqlite|postgres|sqlite,postgres (sqlite), --hot-minutes H (120: the evaluator's
 * default, tiered engines; 0: every window's minutes in memory), --history 0 (skip the history
 * backfill, for large N), --profile FILE (a CPU profile of the timed ticks: FILE.<db>.cpuprofile).
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { sql } from 'kysely';
import pino from 'pino';
import { AlertService } from '../src/alerting/service.js';
import { DEFAULT_MIN_EVENTS } from '../src/platform/config.js';
import { type Db, openDatabase } from '../src/platform/db/database.js';
import { migrateToLatest } from '../src/platform/db/migrations.js';
import { createMetrics } from '../src/platform/metrics.js';
import { budgetReport } from '../src/slo/budget-report.js';
import { Evaluator } from '../src/slo/evaluator/evaluator.js';
import { createLeaderElection } from '../src/slo/evaluator/leader.js';
import { listStatuses } from '../src/slo/evaluator/read.js';
import type { Catalog } from '../src/slo/model.js';
import { loadSpecText } from '../src/slo/spec/load.js';
import { createTestDatabase } from '../test/support/databases.js';
import { agree, check } from './check.js';
import { intFlag } from './flags.js';
import type { BenchFlags } from './run.js';

const MIN = 60_000;
const WARMUP_TICKS = 2;

/** N SLOs on N SLIs: 28-day rolling Occurrences, every 4th Timeslices (5m), every 10th a Tokyo calendar month. */
export function specs(slos: number): string {
  const docs = ['apiVersion: openslo/v1\nkind: Service\nmetadata: {name: bench}\nspec: {}\n'];
  for (let i = 0; i < slos; i++) {
    const window =
      i % 10 === 9
        ? "[{duration: 1M, isRolling: false, calendar: {startTime: '2026-01-01 00:00:00', timeZone: Asia/Tokyo}}]"
        : '[{duration: 28d, isRolling: true}]';
    const sliced = i % 4 === 3;
    docs.push(`apiVersion: openslo/v1
kind: SLI
metadata: {name: sli-${i}}
spec:
  ratioMetric:
    good: {metricSource: {type: shinrai, spec: {}}}
    total: {metricSource: {type: shinrai, spec: {}}}
`);
    docs.push(`apiVersion: openslo/v1
kind: SLO
metadata: {name: slo-${i}}
spec:
  service: bench
  indicatorRef: sli-${i}
  timeWindow: ${window}
  budgetingMethod: ${sliced ? 'Timeslices' : 'Occurrences'}
  objectives: [{target: 0.999${sliced ? ', timeSliceTarget: 0.99, timeSliceWindow: 5m' : ''}}]
`);
  }
  return docs.join('---\n');
}

/**
 * Deterministic traffic generated inside the database for sli-0…sli-(slos-1): 200–999 requests a
 * minute, a few failures, each minute stamped as if ingested live (30 s after it started).
 */
export function fillSql(slos: number, firstMinute: number, lastMinute: number) {
  const lit = sql.lit;
  return sql`
      WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < ${lit(slos - 1)}),
        m(x) AS (SELECT CAST(${lit(firstMinute)} AS bigint) UNION ALL SELECT x + 1 FROM m WHERE x < ${lit(lastMinute - 1)})
      INSERT INTO sli_minutes (sli, minute_ts, good, total, updated_at)
      SELECT 'sli-' || i, x * ${lit(MIN)}, 200 + (i * 7 + x) % 800 - CASE WHEN (i + x) % 50 = 0 THEN 1 ELSE 0 END,
        200 + (i * 7 + x) % 800, x * ${lit(MIN)} + 30000
      FROM s CROSS JOIN m`;
}

/** 30 s of ingestion at `clockMs`: every SLI's last complete minute grows, stamped then. */
export async function growLastMinute(db: Db, slos: number, clockMs: number): Promise<void> {
  const minuteMs = Math.floor(clockMs / MIN) * MIN - MIN;
  await sql`
        WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < ${sql.lit(slos - 1)})
        INSERT INTO sli_minutes (sli, minute_ts, good, total, updated_at)
        SELECT 'sli-' || i, ${sql.lit(minuteMs)}, 100 + i % 50, 100 + i % 50 + i % 3, ${sql.lit(clockMs)}
        FROM s WHERE true
        ON CONFLICT (sli, minute_ts) DO UPDATE SET good = sli_minutes.good + excluded.good,
          total = sli_minutes.total + excluded.total, updated_at = excluded.updated_at`.execute(db.kysely);
}

/** The evaluator's debug line per tick. */
interface TickLog {
  tookMs: number;
  feedMs: number;
  writeMs: number;
  changedRows: number;
  stateBytes: number;
  waitingBackfills: number;
  /** Tiered engines still waiting for their cold windows' rebuild. */
  waitingRebuilds?: number;
  restoredEngines?: number;
  coldRows?: number;
  historyMs?: number;
  historyPoints?: number;
  historyRows?: number;
  historyWaiting?: number;
}

/** A full garbage collection, without starting node with --expose-gc. */
function collectGarbage(): void {
  v8.setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

function mib(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(0);
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

export function ms(n: number): string {
  return n < 10 ? n.toFixed(2) : n < 1000 ? n.toFixed(1) : n.toFixed(0);
}

interface RunOptions {
  readonly slos: number;
  readonly days: number;
  readonly ticks: number;
  readonly hotMinutes: number;
  readonly history: boolean;
  /** Write a CPU profile of the steady ticks (the timed ones) to this file. */
  readonly profile: string | undefined;
}

async function runOn(dialect: 'sqlite' | 'postgres', options: RunOptions): Promise<void> {
  const { slos, days, ticks, hotMinutes, history, profile } = options;
  const testDb = await createTestDatabase(dialect);
  const db = openDatabase(testDb.url);
  try {
    await migrateToLatest(db.kysely);
    const firstMinute = Math.floor(Date.UTC(2026, 2, 14, 10, 0) / MIN);
    const lastMinute = firstMinute + days * 1_440;
    const fillStart = performance.now();
    // Deterministic traffic generated inside the database: 200–999 requests a minute, a few failures,
    // each minute stamped as if ingested live (30 s after it started).
    const fill = fillSql(slos, firstMinute, lastMinute);
    // SQLite fills in a child process, so its temporary memory is not counted in this process's
    // resident memory (the evaluator's, measured below); PostgreSQL fills in its own server.
    if (dialect === 'sqlite') {
      const { sql: text } = fill.compile(db.kysely);
      const script =
        "const D = require('better-sqlite3'); const db = new D(process.env.FILE); db.exec(process.env.SQL); db.close();";
      execFileSync(process.execPath, ['-e', script], {
        env: { ...process.env, FILE: testDb.url, SQL: text },
        stdio: 'inherit',
      });
    } else await fill.execute(db.kysely);
    const fillSeconds = (performance.now() - fillStart) / 1000;

    const loaded = loadSpecText('bench.yaml', specs(slos));
    const errors = loaded.diagnostics.filter((d) => d.severity === 'error');
    if (errors.length) throw new Error(`bench specs: ${errors[0]!.message}`);
    const ticksSeen: TickLog[] = [];
    const log = pino(
      { level: 'debug' },
      {
        write: (line: string) => {
          const entry = JSON.parse(line) as TickLog & { msg: string };
          if (entry.msg === 'evaluation tick') ticksSeen.push(entry);
        },
      },
    );
    const clock = { ms: lastMinute * MIN + 5_000, now: () => clock.ms };
    const metrics = createMetrics();
    async function newEvaluator(): Promise<Evaluator> {
      const leader =
        dialect === 'postgres'
          ? createLeaderElection({ db, url: testDb.url, retrySeconds: 5, log, metrics })
          : undefined;
      await leader?.start();
      const specs = () => ({ catalog: loaded.catalog, version: 1 });
      // The live alerts run in every tick's write transaction, as in the server.
      const alerts = new AlertService({ log, specs, minEvents: DEFAULT_MIN_EVENTS });
      return new Evaluator({
        db,
        clock,
        log,
        metrics,
        specs,
        config: {
          tickSeconds: 30,
          historyStepSeconds: 300,
          hotMinutes,
          historyBackfillDays: history ? undefined : 0,
        },
        leader,
        withStatuses: (trx, statuses, nowMs) => alerts.step(trx, statuses, nowMs),
      });
    }

    /**
     * Ticks back to back (as the evaluator schedules them while it catches up) until every SLO has
     * a status, then until the history backfill is done. The statuses are written before the
     * history backfill starts in the same tick, so its time is not counted in `liveMs`.
     */
    async function settle(evaluator: Evaluator) {
      const first = ticksSeen.length;
      const startMs = performance.now();
      do await evaluator.tick();
      while (ticksSeen.at(-1)?.waitingBackfills || ticksSeen.at(-1)?.waitingRebuilds);
      const seen = () => ticksSeen.slice(first);
      const sum = (pick: (t: TickLog) => number | undefined) =>
        seen().reduce((total, t) => total + (pick(t) ?? 0), 0);
      const liveMs = performance.now() - startMs - sum((t) => t.historyMs);
      while (ticksSeen.at(-1)?.historyWaiting) await evaluator.tick();
      return {
        liveMs,
        historyMs: sum((t) => t.historyMs),
        points: sum((t) => t.historyPoints),
        rows: sum((t) => t.historyRows),
        ticks: seen().filter((t) => t.historyPoints).length,
        restored: sum((t) => t.restoredEngines),
      };
    }
    const historyLine = (h: Awaited<ReturnType<typeof settle>>) =>
      `${h.points.toLocaleString('en')} points from ${h.rows.toLocaleString('en')} stored minutes in ${ms(h.historyMs)} ms (${((1000 * h.historyMs) / Math.max(1, h.rows)).toFixed(2)} µs per minute, ${h.ticks} tick${h.ticks === 1 ? '' : 's'})`;

    // Start-up on the stored days: the statuses, then the whole history replayed.
    let evaluator = await newEvaluator();
    const startup = await settle(evaluator);

    const steady: TickLog[] = [];
    const steadyCpu: number[] = [];
    const profiler = profile ? new Session() : undefined;
    profiler?.connect();
    await profiler?.post('Profiler.enable');
    for (let t = 0; t < WARMUP_TICKS + ticks; t++) {
      clock.ms += 30_000;
      await growLastMinute(db, slos, clock.ms);
      const before = ticksSeen.length;
      if (t === WARMUP_TICKS) await profiler?.post('Profiler.start');
      const cpu = process.cpuUsage();
      await evaluator.tick();
      const used = process.cpuUsage(cpu);
      const seen = ticksSeen[before];
      if (!seen) throw new Error('a tick did not evaluate (see the log)');
      if (t >= WARMUP_TICKS) {
        steady.push(seen);
        steadyCpu.push((used.user + used.system) / 1000);
      }
    }
    if (profiler && profile) {
      const { profile: taken } = await profiler.post('Profiler.stop');
      writeFileSync(`${profile}.${dialect}.cpuprofile`, JSON.stringify(taken));
      profiler.disconnect();
    }
    // Resident memory while evaluating, the SQLite pages in this process included: before and
    // after a full garbage collection (V8 lets garbage pile up while memory is plentiful).
    const before = process.memoryUsage();
    collectGarbage();
    const after = process.memoryUsage();
    const stateBytes = ticksSeen.at(-1)?.stateBytes ?? 0;
    // A restart 10 minutes later (a crash; nothing ingested meanwhile): the new leader backfills
    // its statuses and fills the steps nobody wrote, replaying from a window before them.
    await evaluator.stop();
    clock.ms += 10 * MIN;
    evaluator = await newEvaluator();
    const restart = await settle(evaluator);
    await evaluator.stop();
    await checkStatuses(db, dialect, loaded.catalog, clock.ms);
    console.log(
      `${dialect}: ${slos} SLOs, ${days} days × ${slos} SLIs = ${(slos * days * 1_440).toLocaleString('en')} stored minutes (filled in ${fillSeconds.toFixed(1)} s), hot minutes ${hotMinutes || 'all (full memory)'}`,
    );
    console.log(`  start-up backfill (until every SLO has a status): ${ms(startup.liveMs)} ms`);
    console.log(`  history backfill: ${historyLine(startup)}`);
    console.log(
      `  restart 10 minutes later: statuses in ${ms(restart.liveMs)} ms (${restart.restored.toLocaleString('en')} engines restored from checkpoints); missed steps: ${historyLine(restart)}`,
    );
    const took = steady.map((t) => t.tookMs);
    const feedMs = median(steady.map((t) => t.feedMs));
    const writeMs = median(steady.map((t) => t.writeMs));
    console.log(
      `  steady tick: median ${ms(median(took))} ms (all: ${took.map(ms).join(', ')}); of which change feed ${ms(feedMs)} ms (${median(steady.map((t) => t.changedRows))} rows), status write ${ms(writeMs)} ms, engines and the rest ${ms(median(took) - feedMs - writeMs)} ms`,
    );
    console.log(
      `  steady tick CPU (this process): median ${ms(median(steadyCpu))} ms (all: ${steadyCpu.map(ms).join(', ')})`,
    );
    console.log(
      `  engine state: ${(stateBytes / 2 ** 20).toFixed(1)} MiB; while evaluating: RSS ${mib(before.rss)} MiB (JS heap ${mib(before.heapUsed)} of ${mib(before.heapTotal)}), after a full GC: RSS ${mib(after.rss)} MiB (JS heap ${mib(after.heapUsed)} of ${mib(after.heapTotal)}, external ${mib(after.external)})`,
    );
  } finally {
    await db.close();
    await testDb.drop();
  }
}

/**
 * Checks (fail the run): every SLO has a status of the last tick, and the stored statuses of a
 * sample (every method and window kind among them) equal `shinrai budget`'s from-scratch report
 * over the stored minutes at the same instant.
 */
export async function checkStatuses(db: Db, dialect: string, catalog: Catalog, atMs: number): Promise<void> {
  const statuses = await listStatuses(db);
  const current = [...statuses.values()].filter((s) => Date.parse(s.evaluatedAt) === atMs).length;
  check(
    statuses.size === catalog.slos.length && current === statuses.size,
    `${dialect}: every SLO has a status of the last tick`,
    `${current} current of ${statuses.size} stored, ${catalog.slos.length} SLOs`,
  );
  // SLO i runs on sli-i: i = 0–3 and 9 cover Occurrences, Timeslices and a calendar month.
  const sample = catalog.slos.filter((_, i) => i < 4 || i % 10 === 9).slice(0, 8);
  const slis = sample.map((slo) => slo.id.replace(/^slo-/, 'sli-'));
  const rows = await db.kysely
    .selectFrom('sli_minutes')
    .select(['sli', 'minute_ts', 'good', 'total'])
    .where('sli', 'in', slis)
    .execute();
  const { report } = budgetReport(
    { ...catalog, slos: sample },
    rows.map((r) => ({
      sli: r.sli,
      tsMs: Number(r.minute_ts),
      good: Number(r.good),
      total: Number(r.total),
    })),
    atMs,
  );
  const differing: string[] = [];
  for (const expected of report.slos) {
    const stored = statuses.get(expected.id);
    const same =
      stored !== undefined &&
      agree(stored.sli, expected.sli, 1e-9) &&
      agree(stored.budget.remaining, expected.budget.remaining, 1e-9) &&
      agree(stored.budget.total, expected.budget.total, 1e-9) &&
      Object.entries(expected.burnRates).every(([label, rate]) => agree(stored.burnRates[label], rate, 1e-9));
    if (!same) differing.push(expected.id);
  }
  check(
    report.slos.length > 0 && differing.length === 0,
    `${dialect}: ${report.slos.length} stored statuses equal the from-scratch report over the stored minutes`,
    differing.length ? `differing: ${differing.join(', ')}` : undefined,
  );
}

export async function run(flags: BenchFlags): Promise<void> {
  const slos = intFlag(flags, 'slos', 1_000);
  const days = intFlag(flags, 'days', 2);
  const ticks = intFlag(flags, 'ticks', 10);
  const hotMinutes = intFlag(flags, 'hot-minutes', 120, 0);
  const history = intFlag(flags, 'history', 1, 0) !== 0;
  const profile = typeof flags.profile === 'string' ? flags.profile : undefined;
  const dbFlag = typeof flags.db === 'string' ? flags.db : 'sqlite';
  const dialects = dbFlag.split(',');
  for (const dialect of dialects) {
    if (dialect !== 'sqlite' && dialect !== 'postgres')
      throw new Error('--db is sqlite, postgres or both, comma-separated');
    await runOn(dialect, { slos, days, ticks, hotMinutes, history, profile });
  }
}
