/**
 * PostgreSQL's week partitions of `sli_minutes` (migration 0024, src/slo/partitions.ts), on the real
 * PostgreSQL: the migration keeps every row, key and upsert; minutes with no partition (far past,
 * far future) are stored and later moved into their week; ingestion of an old minute creates its
 * week; retention drops whole old weeks and keeps exactly what the batch delete keeps on SQLite;
 * replicas creating the same weeks at once both succeed.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/platform/config.js';
import { type Db, openDatabase } from '../src/platform/db/database.js';
import { MIGRATION_NAMES, migrateToLatest } from '../src/platform/db/migrations.js';
import {
  DEFAULT_PARTITION,
  ensureWeekPartitions,
  listPartitions,
  WEEK_MS,
  weekStart,
} from '../src/platform/db/partitions.js';
import { createMetrics } from '../src/platform/metrics.js';
import { DAY_MS, MINUTE_MS, type RetentionRun, RetentionTask } from '../src/platform/retention.js';
import { evaluationTargets } from '../src/slo/evaluation.js';
import { readMinutes, refreshHourSums } from '../src/slo/index.js';
import { ingestBatch, upsertBuckets } from '../src/slo/ingest/service.js';
import type { Catalog } from '../src/slo/model.js';
import { dropMinutePartitions, maintainMinutePartitions } from '../src/slo/partitions.js';
import { SloRetention, sliMinutesKeepMs } from '../src/slo/retention.js';
import { loadSpecText } from '../src/slo/spec/load.js';
import { createTestDatabase, type TestDatabase } from './support/databases.js';
import { ManualClock, startTestServer } from './support/server.js';
import { ratioSloYaml } from './support/specs.js';

/** 12:34:56Z on Monday 2026-12-07: off every minute boundary. */
const NOW = Date.UTC(2026, 11, 7, 12, 34, 56);
const LAST_BEFORE_PARTITIONS = MIGRATION_NAMES[MIGRATION_NAMES.indexOf('0024_sli_minutes_partitions') - 1]!;

interface Row {
  sli: string;
  minute_ts: number;
  good: number;
  total: number;
}

async function rows(db: Db, table = 'sli_minutes'): Promise<Row[]> {
  const result = await sql<Row>`SELECT sli, minute_ts, good, total FROM ${sql.table(table)}
    ORDER BY sli, minute_ts`.execute(db.kysely);
  return result.rows.map((r) => ({
    ...r,
    minute_ts: Number(r.minute_ts),
    good: Number(r.good),
    total: Number(r.total),
  }));
}

async function hours(db: Db): Promise<unknown[]> {
  const result = await sql<Record<string, unknown>>`SELECT sli, hour_ts, good, bad, total, data_minutes
    FROM sli_hours ORDER BY sli, hour_ts`.execute(db.kysely);
  return result.rows.map((r) =>
    Object.fromEntries(Object.entries(r).map(([k, v]) => [k, k === 'sli' ? v : Number(v)])),
  );
}

/** The partition each stored minute of `sli` is in. */
async function placement(db: Db, sli: string): Promise<Map<number, string>> {
  const result = await sql<{
    minute_ts: string;
    part: string;
  }>`SELECT minute_ts, tableoid::regclass::text AS part
    FROM sli_minutes WHERE sli = ${sli}`.execute(db.kysely);
  return new Map(result.rows.map((r) => [Number(r.minute_ts), r.part]));
}

async function dirtyMarks(db: Db): Promise<number> {
  const result = await sql<{ n: string }>`SELECT count(*) AS n FROM sli_dirty_hours`.execute(db.kysely);
  return Number(result.rows[0]!.n);
}

const bucket = (storageKey: string, minuteMs: number, good = 1, total = 2) => ({
  storageKey,
  minuteMs,
  good,
  total,
});

describe('sli_minutes partitions on postgres', () => {
  let testDb: TestDatabase;
  let db: Db;

  beforeAll(async () => {
    testDb = await createTestDatabase('postgres');
    db = openDatabase(testDb.url);
  });

  afterAll(async () => {
    await db.close();
    await testDb.drop();
  });

  it('migrates a table with rows into week partitions keeping every row, sum, key and index', async () => {
    await migrateToLatest(db.kysely, { upTo: LAST_BEFORE_PARTITIONS });
    // Weeks apart, one before 1970, plus minutes sharing a week: written as ingestion writes them.
    const seeded = [
      bucket('api', -3 * DAY_MS),
      bucket('api', 0),
      bucket('api', NOW - 300 * DAY_MS),
      bucket('api', Math.floor(NOW / MINUTE_MS) * MINUTE_MS),
      bucket('web', NOW - 20 * DAY_MS, 3, 4),
      bucket('web', NOW - 20 * DAY_MS + MINUTE_MS, 0, 0),
    ];
    await upsertBuckets(db.kysely, seeded, 1);
    await refreshHourSums(db);
    const before = { minutes: await rows(db), hours: await hours(db), marks: await dirtyMarks(db) };

    const report = await migrateToLatest(db.kysely);
    expect(report.applied).toContain('0024_sli_minutes_partitions');
    const kind = await sql<{
      k: string;
    }>`SELECT relkind AS k FROM pg_class WHERE oid = 'sli_minutes'::regclass`.execute(db.kysely);
    expect(kind.rows[0]!.k).toBe('p');
    expect(await rows(db)).toEqual(before.minutes);
    expect(await hours(db)).toEqual(before.hours);
    // Moving the rows marked no hour stale (their sums did not change).
    expect(await dirtyMarks(db)).toBe(before.marks);
    // A week partition for each week with rows; every row is in the one of its week.
    const partitions = await listPartitions(db.kysely);
    expect(partitions.map((p) => p.fromMs)).toEqual(
      [...new Set(seeded.map((b) => weekStart(b.minuteMs)))].sort((a, b) => a - b),
    );
    for (const [minute, part] of await placement(db, 'api'))
      expect(part).toBe(partitions.find((p) => p.fromMs <= minute && minute < p.toMs)!.name);
    const indexes = await sql<{ name: string; def: string }>`SELECT indexname AS name, indexdef AS def
      FROM pg_indexes WHERE tablename = 'sli_minutes' AND schemaname = current_schema() ORDER BY indexname`.execute(
      db.kysely,
    );
    expect(indexes.rows.map((r) => r.name)).toEqual([
      'sli_minutes_counts',
      'sli_minutes_feed',
      'sli_minutes_pk',
    ]);
    expect(indexes.rows.find((r) => r.name === 'sli_minutes_pk')!.def).toMatch(/UNIQUE.*\(sli, minute_ts\)/);

    // The upserts work as before: `add` sums, `replace` sets, and the key refuses a duplicate.
    await upsertBuckets(db.kysely, [bucket('web', NOW - 20 * DAY_MS, 1, 1)], 2, 'add');
    await upsertBuckets(db.kysely, [bucket('api', 0, 5, 9)], 2, 'replace');
    const after = await rows(db);
    expect(after.find((r) => r.sli === 'web' && r.minute_ts === NOW - 20 * DAY_MS)).toMatchObject({
      good: 4,
      total: 5,
    });
    expect(after.find((r) => r.sli === 'api' && r.minute_ts === 0)).toMatchObject({ good: 5, total: 9 });
    await expect(
      sql`INSERT INTO sli_minutes VALUES ('api', 0, 1, 1, 1)`.execute(db.kysely),
    ).rejects.toMatchObject({ code: '23505' });
    // … and the hour-sum triggers moved to the new table.
    expect(await dirtyMarks(db)).toBeGreaterThan(before.marks);
    await refreshHourSums(db);
  });

  it('stores minutes no week partition covers, far in the past and the future, and moves them into their week later', async () => {
    const far = [bucket('far', Date.UTC(1971, 0, 1)), bucket('far', Date.UTC(2100, 0, 1))];
    const nextWeek = weekStart(NOW) + WEEK_MS + 5 * MINUTE_MS;
    await upsertBuckets(db.kysely, [...far, bucket('far', nextWeek)], 3);
    const placed = await placement(db, 'far');
    expect([...placed.values()]).toEqual([DEFAULT_PARTITION, DEFAULT_PARTITION, DEFAULT_PARTITION]);
    expect((await readMinutes(db, 'far', 0, Date.UTC(2200, 0, 1))).map((r) => r.minuteMs)).toEqual([
      far[0]!.minuteMs,
      nextWeek,
      far[1]!.minuteMs,
    ]);
    await refreshHourSums(db);
    const sums = await hours(db);
    const marks = await dirtyMarks(db);

    // The hourly maintenance creates the next week (this one holds rows since the migration), and
    // next week's minute moves there.
    const report = await maintainMinutePartitions(db, NOW);
    expect(report?.created).toEqual(['sli_minutes_w20261214']);
    expect(report?.movedRows).toBe(1);
    const moved = await placement(db, 'far');
    expect(moved.get(nextWeek)).toMatch(/^sli_minutes_w20261214$/);
    expect(moved.get(far[0]!.minuteMs)).toBe(DEFAULT_PARTITION);
    expect((await readMinutes(db, 'far', 0, Date.UTC(2200, 0, 1))).length).toBe(3);
    expect(await hours(db)).toEqual(sums);
    expect(await dirtyMarks(db)).toBe(marks);
    // Again: nothing to do.
    expect((await maintainMinutePartitions(db, NOW))?.created).toEqual([]);
  });

  it('ingests a minute 399 days old into a week partition it creates first', async () => {
    const clock = new ManualClock(NOW);
    const old = NOW - 399 * DAY_MS;
    const loaded = loadSpecText('old.yaml', ratioSloYaml('old', { window: '28d', sli: 'old-requests' }));
    const catalog = loaded.catalog;
    const result = await ingestBatch({
      ctx: { db, clock, metrics: createMetrics(), catalog: () => catalog },
      input: {
        name: 'old-requests',
        body: JSON.stringify({ ts: old, good: 1, total: 1 }),
        contentType: 'application/x-ndjson',
      },
    });
    expect(result.status).toBe('accepted');
    const placed = await placement(db, 'old-requests');
    expect([...placed.values()]).toEqual([
      (await listPartitions(db.kysely)).find((p) => p.fromMs === weekStart(old))!.name,
    ]);
  });

  it('migrates back down to one table with every row, and up again', async () => {
    const minutes = await rows(db);
    const relkind = async () =>
      (
        await sql<{
          k: string;
        }>`SELECT relkind AS k FROM pg_class WHERE oid = 'sli_minutes'::regclass`.execute(db.kysely)
      ).rows[0]!.k;
    await migrateToLatest(db.kysely, { upTo: LAST_BEFORE_PARTITIONS });
    expect(await relkind()).toBe('r');
    expect(await rows(db)).toEqual(minutes);
    const marks = await dirtyMarks(db);
    await upsertBuckets(db.kysely, [bucket('down', NOW)], 5);
    expect(await dirtyMarks(db)).toBe(marks + 1);
    await migrateToLatest(db.kysely);
    expect(await relkind()).toBe('p');
    expect((await rows(db)).length).toBe(minutes.length + 1);
  });

  it('lets two replicas create (and fill from the default partition) the same weeks at once', async () => {
    const other = openDatabase(testDb.url);
    try {
      const from = Date.UTC(2027, 5, 1);
      const to = from + 6 * WEEK_MS;
      // Minutes waiting in the default partition for three of those weeks.
      const waiting = [0, 2, 4].map((w) => bucket('race', from + w * WEEK_MS + 2 * DAY_MS));
      await upsertBuckets(db.kysely, waiting, 4);
      const reports = await Promise.all([
        ensureWeekPartitions(db.kysely, from, to),
        ensureWeekPartitions(other.kysely, from, to),
        ensureWeekPartitions(db.kysely, from, to),
      ]);
      const weeks = (await listPartitions(db.kysely)).filter(
        (p) => p.fromMs >= weekStart(from) && p.fromMs < to,
      );
      expect(weeks.map((p) => p.fromMs)).toEqual(
        [0, 1, 2, 3, 4, 5, 6].map((w) => weekStart(from) + w * WEEK_MS).filter((w) => w < to),
      );
      expect(reports.reduce((n, r) => n + r.movedRows, 0)).toBe(3);
      expect([...(await placement(db, 'race')).values()].every((p) => p !== DEFAULT_PARTITION)).toBe(true);
      expect((await rows(db)).filter((r) => r.sli === 'race').map((r) => r.minute_ts)).toEqual(
        waiting.map((b) => b.minuteMs),
      );
    } finally {
      await other.close();
    }
  });
  it('skips a week whose drop waits too long for its lock, and drops it at the next pass', async () => {
    const week = Date.UTC(2020, 0, 6);
    await ensureWeekPartitions(db.kysely, week, week + WEEK_MS);
    await upsertBuckets(db.kysely, [bucket('busy', week + DAY_MS), bucket('busy', week + 2 * DAY_MS)], 6);
    let counted = 0;
    let dropped = 0;
    const run: RetentionRun = {
      db,
      nowMs: NOW,
      batchRows: 1000,
      pause: async () => true,
      count: (_table, n) => {
        counted += n;
      },
      partitionsDropped: (_table, n) => {
        dropped += n;
      },
    };
    const weeksBefore = async () =>
      (await listPartitions(db.kysely)).filter((p) => p.toMs <= week + WEEK_MS).map((p) => p.name);
    const older = (await weeksBefore()).filter((name) => name !== 'sli_minutes_w20200106');
    const other = openDatabase(testDb.url);
    try {
      // A long reader of that week (a report, say) holds it while retention runs.
      await other.kysely.transaction().execute(async (trx) => {
        await sql`LOCK TABLE sli_minutes_w20200106 IN ACCESS SHARE MODE`.execute(trx);
        expect(await dropMinutePartitions(run, week + WEEK_MS)).toBe(true);
      });
    } finally {
      await other.close();
    }
    expect(await weeksBefore()).toEqual(['sli_minutes_w20200106']);
    expect(dropped).toBe(older.length);
    const busyRows = (await rows(db)).filter((r) => r.sli === 'busy').length;
    expect(busyRows).toBe(2);
    // Next pass: the lock is free.
    counted = 0;
    expect(await dropMinutePartitions(run, week + WEEK_MS)).toBe(true);
    expect(await weeksBefore()).toEqual([]);
    expect(counted).toBe(2);
    expect(dropped).toBe(older.length + 1);
  });
});

describe('the server on postgres', () => {
  it('creates this week and the next at start, and an old ingested minute its own week', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shinrai-partitions-'));
    writeFileSync(join(dir, 'slo.yaml'), ratioSloYaml('availability', { window: '28d', sli: 'requests' }));
    const server = await startTestServer('postgres', { clock: new ManualClock(NOW), specs: dir });
    const db = openDatabase(server.database.url);
    try {
      // The start's maintenance runs beside the start: wait for it (not a timing assertion).
      const ahead = [weekStart(NOW), weekStart(NOW) + WEEK_MS];
      for (let i = 0; i < 200; i++) {
        const weeks = (await listPartitions(db.kysely)).map((p) => p.fromMs);
        if (ahead.every((w) => weeks.includes(w))) break;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      expect((await listPartitions(db.kysely)).map((p) => p.fromMs)).toEqual(ahead);
      const old = NOW - 200 * DAY_MS;
      const response = await server.request('POST', '/api/v1/sli/requests/events', {
        token: await server.token('editor'),
        body: [old, NOW].map((ts) => JSON.stringify({ ts, good: 1, total: 1 })).join('\n'),
        headers: { 'content-type': 'application/x-ndjson' },
      });
      expect(response.status).toBe(200);
      const placed = await placement(db, 'requests');
      expect(placed.get(Math.floor(old / MINUTE_MS) * MINUTE_MS)).toBe(`sli_minutes_w20260518`);
      expect(placed.get(Math.floor(NOW / MINUTE_MS) * MINUTE_MS)).toBe('sli_minutes_w20261207');
    } finally {
      await db.close();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** A 28-day SLO on `requests`: minutes are kept 28 + 35 days, at least the status page's 90 + 1. */
function catalog(): Catalog {
  return loadSpecText('retention.yaml', ratioSloYaml('availability', { window: '28d', sli: 'requests' }))
    .catalog;
}

describe('retention of sli_minutes: partition drops on postgres, batch deletes on sqlite', () => {
  const specs = catalog();
  const keepMs = sliMinutesKeepMs(evaluationTargets(specs), 35, { statusPageDays: 90 })!;
  const before = Math.floor((NOW - keepMs) / MINUTE_MS) * MINUTE_MS;
  // Two SLIs (one no longer in the catalog), a minute every 5 hours over 200 days.
  const seeded = ['requests', 'retired'].flatMap((sli, i) =>
    Array.from({ length: 960 }, (_, n) =>
      bucket(sli, Math.floor((NOW - n * 5 * 3_600_000 - i * MINUTE_MS) / MINUTE_MS) * MINUTE_MS),
    ),
  );
  const results = new Map<string, { rows: Row[]; hours: unknown[]; deleted: number; partitions: number }>();

  async function pass(dialect: 'sqlite' | 'postgres') {
    const testDb = await createTestDatabase(dialect);
    const db = openDatabase(testDb.url);
    try {
      await migrateToLatest(db.kysely);
      if (dialect === 'postgres') await ensureWeekPartitions(db.kysely, NOW - 200 * DAY_MS, NOW + WEEK_MS);
      await upsertBuckets(db.kysely, seeded, 1);
      await refreshHourSums(db);
      const settings = loadConfig({ flags: { 'retention.pauseMs': 0 } }).retention;
      const metrics = createMetrics();
      const task = new RetentionTask({
        db,
        clock: new ManualClock(NOW),
        log: pino({ level: 'silent' }),
        metrics,
        settings,
        isLeader: () => true,
        rules: (nowMs) =>
          new SloRetention({ db, settings, catalog: () => specs, statusPageDays: 90 }).rules(nowMs),
        sleep: () => new Promise((resolve) => setImmediate(resolve)),
      });
      const summary = (await task.runNow())!;
      expect(summary.failed).toEqual([]);
      await refreshHourSums(db);
      results.set(dialect, {
        rows: await rows(db),
        hours: await hours(db),
        deleted: summary.deleted.sli_minutes ?? 0,
        partitions: summary.partitionsDropped.sli_minutes ?? 0,
      });
      if (dialect === 'postgres') {
        // Whole weeks before the cutoff are gone as tables; the oldest left straddles it.
        const left = await listPartitions(db.kysely);
        expect(left[0]!.fromMs).toBe(weekStart(before));
        expect(
          await metrics.registry.getSingleMetricAsString('shinrai_retention_partitions_dropped_total'),
        ).toContain(
          `shinrai_retention_partitions_dropped_total{table="sli_minutes"} ${summary.partitionsDropped.sli_minutes}`,
        );
      }
    } finally {
      await db.close();
      await testDb.drop();
    }
  }

  beforeAll(async () => {
    await Promise.all([pass('sqlite'), pass('postgres')]);
  });

  it('keeps exactly the minutes at or after the cutoff, on both', () => {
    const expected = seeded
      .filter((b) => b.minuteMs >= before)
      .map((b) => ({ sli: b.storageKey, minute_ts: b.minuteMs, good: b.good, total: b.total }))
      .sort((a, b) => (a.sli === b.sli ? a.minute_ts - b.minute_ts : a.sli < b.sli ? -1 : 1));
    expect(results.get('sqlite')!.rows).toEqual(expected);
    expect(results.get('postgres')!.rows).toEqual(expected);
  });

  it('drops whole weeks on postgres and counts their rows as deleted, as sqlite counts its deletes', () => {
    const pg = results.get('postgres')!;
    const lite = results.get('sqlite')!;
    expect(pg.partitions).toBeGreaterThanOrEqual(10);
    expect(lite.partitions).toBe(0);
    expect(pg.deleted).toBe(seeded.length - pg.rows.length);
    expect(lite.deleted).toBe(pg.deleted);
  });

  it('leaves the same hour sums on both (a dropped week takes its hours with it)', () => {
    expect(results.get('postgres')!.hours).toEqual(results.get('sqlite')!.hours);
  });
});
