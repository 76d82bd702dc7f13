import { sql } from 'kysely';
import pino from 'pino';
import { loadConfig } from '../src/platform/config.js';
import { type Db, type Dialect, openDatabase } from '../src/platform/db/database.js';
import { migrateToLatest } from '../src/platform/db/migrations.js';
import { listPartitions, WEEK_MS, weeksBetween } from '../src/platform/db/partitions.js';
import { createMetrics } from '../src/platform/metrics.js';
import { DAY_MS, HOUR_MS, keptHistory, MINUTE_MS, RetentionTask } from '../src/platform/retention.js';
import { platformRetentionRules } from '../src/platform/retention-rules.js';
import { evaluationTargets } from '../src/slo/evaluation.js';
import { historyPlans, SloRetention, sliMinutesKeepMs } from '../src/slo/retention.js';
import { loadSpecText } from '../src/slo/spec/load.js';
import { createTestDatabase } from '../test/support/databases.js';
import { ratioSloYaml } from '../test/support/specs.js';
import { check } from './check.js';
import { intFlag } from './flags.js';
import type { BenchFlags } from './run.js';

/** The end of the seeded period, on a whole hour. */
const NOW = Date.UTC(2026, 11, 1);
const STEP_MS = 5 * MINUTE_MS;
const TABLES = ['sli_minutes', 'ingest_batches', 'slo_history'] as const;
const BURN_RATES = JSON.stringify({
  '5m': 0.93,
  '30m': 1.02,
  '1h': 0.98,
  '2h': 1.01,
  '6h': 0.97,
  '1d': 0.99,
  '3d': 1,
});
const SHA = 'ab'.repeat(32);

type Counts = Record<(typeof TABLES)[number], number>;

/** SQLite; PostgreSQL's `sli_minutes` as one table (migrations up to 0023: the batch delete), or in week partitions (0024). */
type Variant = 'sqlite' | 'postgres-table' | 'postgres-partitioned';
const LABEL: Record<Variant, string> = {
  sqlite: 'SQLite',
  'postgres-table': 'PostgreSQL, one table',
  'postgres-partitioned': 'PostgreSQL, week partitions',
};
/** The last migration before `sli_minutes` is partitioned. */
const BEFORE_PARTITIONS = '0023_engine_checkpoints';

interface Result {
  readonly variant: Variant;
  readonly before: { readonly bytes: number; readonly rows: Counts; readonly tableBytes: Counts };
  readonly after: { readonly bytes: number; readonly rows: Counts; readonly tableBytes: Counts };
  readonly passSeconds: number;
  /** The `sli_minutes` rule alone, run first: rows it deleted (dropped or not), partitions dropped, seconds. */
  readonly minutesPass: { readonly rows: number; readonly partitions: number; readonly seconds: number };
  /** Migration 0024 on the seeded table (week partitions only). */
  readonly migrationSeconds: number | null;
  readonly steadySeconds: number;
  readonly steadyDeleted: number;
}

export async function run(flags: BenchFlags): Promise<void> {
  const slis = intFlag(flags, 'slis', 5);
  const days = intFlag(flags, 'days', 400);
  const dialectFlag = typeof flags.dialect === 'string' ? flags.dialect : 'both';
  if (!['sqlite', 'postgres', 'both'].includes(dialectFlag))
    throw new Error('--dialect is sqlite, postgres or both');
  const variants: Variant[] = [
    ...(dialectFlag === 'postgres' ? [] : (['sqlite'] as const)),
    ...(dialectFlag === 'sqlite' ? [] : (['postgres-table', 'postgres-partitioned'] as const)),
  ];
  console.log(
    `${slis} SLIs × ${days} days: a minute row and an idempotency key a minute, a history point every 5 minutes`,
  );
  const results: Result[] = [];
  for (const variant of variants) results.push(await runOne(variant, slis, days));
  const scale = 1000 / slis;
  const gib = (bytes: number) => `${((bytes * scale) / 2 ** 30).toFixed(2)} GiB`;
  console.log(
    '\n| database | rows before | rows after | size before | size after | 1,000 SLIs before | 1,000 SLIs after | ratio | first pass | hourly pass at 1,000 SLIs |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    const total = (c: Counts) => TABLES.reduce((sum, t) => sum + c[t], 0).toLocaleString('en-US');
    console.log(
      `| ${LABEL[r.variant]} | ${total(r.before.rows)} | ${total(r.after.rows)} | ${(r.before.bytes / 2 ** 20).toFixed(0)} MiB | ${(r.after.bytes / 2 ** 20).toFixed(0)} MiB | ${gib(r.before.bytes)} | ${gib(r.after.bytes)} | ${(r.before.bytes / r.after.bytes).toFixed(1)}× | ${r.passSeconds.toFixed(1)} s | ${(r.steadyDeleted * scale).toLocaleString('en-US')} rows, ~${(r.steadySeconds * scale).toFixed(0)} s |`,
    );
  }
  console.log('\n| database | table (with its indexes) | 1,000 SLIs before | 1,000 SLIs after |');
  console.log('|---|---|---|---|');
  for (const r of results)
    for (const table of TABLES)
      console.log(
        `| ${LABEL[r.variant]} | ${table} | ${gib(r.before.tableBytes[table])} | ${gib(r.after.tableBytes[table])} |`,
      );
  console.log(
    '\n| database | `sli_minutes` rule alone, first pass | rows deleted | partitions dropped | migration 0024 of the seeded table |',
  );
  console.log('|---|---|---|---|---|');
  for (const r of results)
    console.log(
      `| ${LABEL[r.variant]} | ${r.minutesPass.seconds.toFixed(1)} s | ${r.minutesPass.rows.toLocaleString('en-US')} | ${r.minutesPass.partitions} | ${r.migrationSeconds === null ? '—' : `${r.migrationSeconds.toFixed(1)} s`} |`,
    );
}

async function runOne(variant: Variant, slis: number, days: number): Promise<Result> {
  const dialect: Dialect = variant === 'sqlite' ? 'sqlite' : 'postgres';
  // A file in a fresh temp directory, or a fresh PostgreSQL schema.
  const testDb = await createTestDatabase(dialect);
  const url = testDb.url;
  const cleanup = () => testDb.drop();
  const db = openDatabase(url);
  try {
    // PostgreSQL: seeded into the one table; the partitioned variant then runs migration 0024 on it.
    await migrateToLatest(db.kysely, dialect === 'postgres' ? { upTo: BEFORE_PARTITIONS } : {});
    const catalog = loadSpecText(
      'bench.yaml',
      Array.from({ length: slis }, (_, i) =>
        ratioSloYaml(`slo-${i}`, { window: '28d', sli: `sli-${i}` }),
      ).join('---\n'),
    ).catalog;
    const seedStarted = performance.now();
    for (let i = 0; i < slis; i++) await seed(db, i, days);
    console.log(`${variant}: seeded in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s`);
    let migrationSeconds: number | null = null;
    if (variant === 'postgres-partitioned') {
      const started = performance.now();
      await migrateToLatest(db.kysely);
      migrationSeconds = (performance.now() - started) / 1000;
      const partitions = await listPartitions(db.kysely);
      check(
        partitions.length === Math.ceil(days / 7) || partitions.length === Math.ceil(days / 7) + 1,
        `${variant}: migration 0024 made a partition per week of the seeded days`,
        `${partitions.length}`,
      );
      console.log(
        `${variant}: migration 0024 moved the rows into ${partitions.length} weeks in ${migrationSeconds.toFixed(1)} s`,
      );
    }
    await analyze(db);
    const before = { bytes: await sizeBytes(db), rows: await counts(db), tableBytes: await tableBytes(db) };

    const settings = loadConfig({ flags: { 'retention.pauseMs': 0 } }).retention;
    const slo = new SloRetention({ db, settings, catalog: () => catalog, statusPageDays: 90 });
    let nowMs = NOW;
    let minutesOnly = true;
    const task = new RetentionTask({
      db,
      clock: { now: () => nowMs },
      log: pino({ level: 'silent' }),
      metrics: createMetrics(),
      settings,
      isLeader: () => true,
      rules: (nowMs) =>
        [...slo.rules(nowMs), ...platformRetentionRules(settings, nowMs)].filter(
          (rule) => !minutesOnly || rule.name === 'sli_minutes',
        ),
    });
    // The minutes' rule alone first (drops or batch deletes, timed apart), then the whole pass.
    const minutesStarted = performance.now();
    const minutesSummary = await task.runNow();
    const minutesPass = {
      seconds: (performance.now() - minutesStarted) / 1000,
      rows: minutesSummary?.deleted.sli_minutes ?? 0,
      partitions: minutesSummary?.partitionsDropped.sli_minutes ?? 0,
    };
    minutesOnly = false;
    const passStarted = performance.now();
    const summary = await task.runNow();
    const passSeconds = (performance.now() - passStarted) / 1000 + minutesPass.seconds;
    check(
      summary !== null && summary.failed.length === 0 && minutesSummary?.failed.length === 0,
      `${variant}: the retention pass ran without a failed rule`,
    );

    await compact(db);
    const after = { bytes: await sizeBytes(db), rows: await counts(db), tableBytes: await tableBytes(db) };

    // What should be left, from the cutoffs and the downsampling core.
    const targets = evaluationTargets(catalog);
    const keepMs = sliMinutesKeepMs(targets, settings.sliMinutesMarginDays, { statusPageDays: 90 })!;
    const minutes = minuteStamps(days);
    const plans = historyPlans(targets, settings);
    let points = historyStamps(days);
    const expectedAt = (atMs: number): Counts => {
      const minuteCutoff = Math.floor((atMs - keepMs) / MINUTE_MS) * MINUTE_MS;
      points = keptHistory(points, plans.byId.get('slo-0')!, atMs);
      return {
        sli_minutes: slis * minutes.filter((ts) => ts >= minuteCutoff).length,
        ingest_batches: slis * minutes.filter((ts) => ts >= atMs - settings.ingestKeysDays * DAY_MS).length,
        // Every SLO has the same points and the same plan.
        slo_history: slis * points.length,
      };
    };
    const expected = expectedAt(NOW);
    // Every seeded week wholly before the cutoff goes as a table, none other.
    const cutoffMs = Math.floor((NOW - keepMs) / MINUTE_MS) * MINUTE_MS;
    const wholeWeeks = weeksBetween(NOW - days * DAY_MS, NOW).filter((w) => w + WEEK_MS <= cutoffMs).length;
    check(
      minutesPass.partitions === (variant === 'postgres-partitioned' ? wholeWeeks : 0),
      `${variant}: ${variant === 'postgres-partitioned' ? wholeWeeks : 0} whole weeks went by dropping their partition`,
      `${minutesPass.partitions}`,
    );
    for (const table of TABLES)
      check(
        after.rows[table] === expected[table],
        `${variant}: ${table} holds the ${expected[table].toLocaleString('en-US')} rows the cutoffs keep`,
        `${after.rows[table]}`,
      );
    const perSli = await db.kysely
      .selectFrom('sli_minutes')
      .select(['sli', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('sli')
      .execute();
    check(
      perSli.length === slis && perSli.every((r) => Number(r.n) === expected.sli_minutes / slis),
      `${variant}: every SLI keeps the same minutes`,
    );
    console.log(
      `${variant}: ${TABLES.map((t) => `${t} ${before.rows[t].toLocaleString('en-US')} → ${after.rows[t].toLocaleString('en-US')}`).join(', ')}`,
    );
    // The steady state: an hour later, a pass deletes what aged in that hour.
    nowMs = NOW + HOUR_MS;
    const steadyStarted = performance.now();
    const steady = await task.runNow();
    const steadySeconds = (performance.now() - steadyStarted) / 1000;
    const steadyRows = await counts(db);
    const steadyExpected = expectedAt(nowMs);
    check(
      TABLES.every((t) => steadyRows[t] === steadyExpected[t]) && steady?.failed.length === 0,
      `${variant}: an hour later, a pass leaves what the cutoffs keep then`,
      TABLES.map((t) => `${t} ${steadyRows[t]}/${steadyExpected[t]}`).join(', '),
    );
    const steadyDeleted = Object.values(steady?.deleted ?? {}).reduce((sum, n) => sum + n, 0);
    console.log(
      `${variant}: first pass ${passSeconds.toFixed(1)} s; an hour later ${steadyDeleted.toLocaleString('en-US')} rows in ${steadySeconds.toFixed(2)} s`,
    );
    return {
      variant,
      before,
      after,
      passSeconds,
      minutesPass,
      migrationSeconds,
      steadySeconds,
      steadyDeleted,
    };
  } finally {
    await db.close();
    await cleanup();
  }
}

/** The minutes of the period, oldest first. */
function minuteStamps(days: number): number[] {
  const out: number[] = [];
  for (let ts = NOW - days * DAY_MS; ts < NOW; ts += MINUTE_MS) out.push(ts);
  return out;
}

/** The history steps of the period, oldest first. */
function historyStamps(days: number): number[] {
  const out: number[] = [];
  for (let ts = NOW - days * DAY_MS; ts < NOW; ts += STEP_MS) out.push(ts);
  return out;
}

/** One SLI's rows, generated by the database (the same recursive query on both). */
async function seed(db: Db, index: number, days: number): Promise<void> {
  const startMs = NOW - days * DAY_MS;
  const minutes = days * 1440;
  const steps = days * 288;
  const sli = `sli-${index}`;
  // i = 0 … n - 1: generate_series on PostgreSQL (its recursive queries are slow), a recursive query on SQLite.
  const series = (n: number) =>
    db.dialect === 'postgres'
      ? sql`WITH m(i) AS (SELECT CAST(g AS bigint) FROM generate_series(0, ${sql.lit(n - 1)}) g)`
      : sql`WITH RECURSIVE m(i) AS (SELECT CAST(0 AS bigint) UNION ALL SELECT i + 1 FROM m WHERE i < ${sql.lit(n - 1)})`;
  await sql`${series(minutes)}
    INSERT INTO sli_minutes (sli, minute_ts, good, total, updated_at)
    SELECT ${sli}, ${sql.lit(startMs)} + i * 60000, 990 + (i % 10), 1000, ${sql.lit(startMs)} + i * 60000 + 5000 FROM m`.execute(
    db.kysely,
  );
  await sql`${series(minutes)}
    INSERT INTO ingest_batches (idempotency_key, sli, received_at, response)
    SELECT ${`${sli}-`} || CAST(i AS text), ${sli}, ${sql.lit(startMs)} + i * 60000 + 1000,
      ${`{"status":"accepted","sli":"${sli}","accepted":1000,"minutes":1,"idempotencyKey":"`} || CAST(i AS text) || ${`","requestSha256":"${SHA}"}`}
    FROM m`.execute(db.kysely);
  await sql`${series(steps)}
    INSERT INTO slo_history (slo_id, ts, sli, remaining, burn_rates)
    SELECT ${`slo-${index}`}, ${sql.lit(startMs)} + i * 300000, 0.99 + (i % 7) / 1000.0, 0.5 - (i % 11) / 100.0, ${BURN_RATES} FROM m`.execute(
    db.kysely,
  );
}

async function counts(db: Db): Promise<Counts> {
  const out = {} as Counts;
  for (const table of TABLES) {
    const row = await sql<{ n: number | string }>`SELECT COUNT(*) AS n FROM ${sql.table(table)}`.execute(
      db.kysely,
    );
    out[table] = Number(row.rows[0]!.n);
  }
  return out;
}

async function analyze(db: Db): Promise<void> {
  // Only this schema's tables: the database is shared.
  if (db.dialect === 'postgres')
    for (const table of TABLES) await sql`VACUUM ANALYZE ${sql.table(table)}`.execute(db.kysely);
  else await sql`PRAGMA wal_checkpoint(TRUNCATE)`.execute(db.kysely);
}

/** Returns the space of deleted rows, as a server that always ran retention never had it. */
async function compact(db: Db): Promise<void> {
  if (db.dialect === 'postgres') {
    for (const table of TABLES) await sql`VACUUM FULL ${sql.table(table)}`.execute(db.kysely);
  } else {
    await sql`PRAGMA wal_checkpoint(TRUNCATE)`.execute(db.kysely);
    await sql`VACUUM`.execute(db.kysely);
    await sql`PRAGMA wal_checkpoint(TRUNCATE)`.execute(db.kysely);
  }
}

/** Bytes of each table with its indexes (and TOAST). */
async function tableBytes(db: Db): Promise<Counts> {
  const out = {} as Counts;
  for (const table of TABLES) {
    const row =
      db.dialect === 'postgres'
        ? // A partitioned table's own size is 0: its partitions (or the table itself) summed.
          await sql<{
            bytes: string;
          }>`SELECT COALESCE((SELECT SUM(pg_total_relation_size(relid)) FROM pg_partition_tree(${sql.lit(table)}::regclass)),
              pg_total_relation_size(${sql.lit(table)}::regclass)) AS bytes`.execute(db.kysely)
        : await sql<{ bytes: number }>`SELECT SUM(d.pgsize) AS bytes FROM dbstat d
            JOIN sqlite_master m ON m.name = d.name WHERE m.tbl_name = ${table}`.execute(db.kysely);
    out[table] = Number(row.rows[0]!.bytes);
  }
  return out;
}

/** Bytes of the database: the SQLite file's pages, or every table of the schema with its indexes and TOAST. */
async function sizeBytes(db: Db): Promise<number> {
  if (db.dialect === 'postgres') {
    const row = await sql<{ bytes: string }>`SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) AS bytes
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = current_schema() AND c.relkind = 'r'`.execute(db.kysely);
    return Number(row.rows[0]!.bytes);
  }
  const pages = await sql<{ page_count: number }>`PRAGMA page_count`.execute(db.kysely);
  const size = await sql<{ page_size: number }>`PRAGMA page_size`.execute(db.kysely);
  return Number(pages.rows[0]!.page_count) * Number(size.rows[0]!.page_size);
}
