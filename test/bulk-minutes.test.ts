/**
 * The pullers' bulk way into `sli_minutes` (`replaceBuckets`: reused prepared statements on
 * SQLite) stores exactly what `upsertBuckets(…, 'replace')` stores: the same counts, the same
 * `updated_at` (rows whose counts did not change keep theirs, so the change feed does not see them
 * again), the same hour sums, and nothing at all when one bucket is out of range. Migration 0031
 * (SQLite's `sli_minutes` as a WITHOUT ROWID table) keeps every row, hour sum and trigger, and
 * its `down` puts the rowid table back. Both databases.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Db, migrateToLatest, openDatabase } from '../src/platform/db/index.js';
import { MIGRATION_NAMES } from '../src/platform/db/migrations.js';
import { AppError } from '../src/platform/errors.js';
import { refreshHourSums, sumMinutes } from '../src/slo/hour-sums.js';
import type { MinuteBucket } from '../src/slo/ingest/aggregate.js';
import { replaceBuckets, upsertBuckets } from '../src/slo/ingest/service.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from './support/databases.js';

const MIN = 60_000;
const START = Date.UTC(2026, 10, 2, 0, 0);
const KEYS = ['api', 'checkout', 'web'];

/** `rows` buckets over KEYS (sorted by key, then minute), counts varying with `seed`. */
function buckets(rows: number, seed: number): MinuteBucket[] {
  const out: MinuteBucket[] = [];
  for (let i = 0; i < rows; i++) {
    const total = 100 + ((i * 7 + seed) % 13);
    out.push({
      storageKey: KEYS[i % KEYS.length]!,
      minuteMs: START + Math.floor(i / KEYS.length) * MIN,
      good: total - ((i * seed) % 3),
      total,
    });
  }
  return out.sort((a, b) =>
    a.storageKey < b.storageKey ? -1 : a.storageKey > b.storageKey ? 1 : a.minuteMs - b.minuteMs,
  );
}

async function stored(db: Db) {
  return db.kysely
    .selectFrom('sli_minutes')
    .select(['sli', 'minute_ts', 'good', 'total', 'updated_at'])
    .orderBy('sli')
    .orderBy('minute_ts')
    .execute()
    .then((rows) =>
      rows.map((r) => [r.sli, Number(r.minute_ts), Number(r.good), Number(r.total), Number(r.updated_at)]),
    );
}

describe.each(DIALECTS)('bulk minute writes on %s', (dialect) => {
  let bulk: { test: TestDatabase; db: Db };
  let reference: { test: TestDatabase; db: Db };

  beforeAll(async () => {
    const open = async () => {
      const test = await createTestDatabase(dialect);
      const db = openDatabase(test.url);
      await migrateToLatest(db.kysely);
      return { test, db };
    };
    bulk = await open();
    reference = await open();
  });

  afterAll(async () => {
    for (const { db, test } of [bulk, reference]) {
      await db?.close();
      await test?.drop();
    }
  });

  it('store what upsertBuckets(…, "replace") stores', async () => {
    // 1,234 rows: twelve whole 100-row statements and a remainder; then a re-read of the same
    // minutes with some counts changed, some not, and new minutes after them.
    const writes = [
      { rows: buckets(1_234, 1), at: 1_000 },
      { rows: buckets(1_500, 2), at: 2_000 },
      { rows: buckets(7, 2), at: 3_000 },
    ];
    for (const { rows, at } of writes) {
      await bulk.db.kysely.transaction().execute((trx) => replaceBuckets(bulk.db, trx, rows, at));
      // PostgreSQL stamps rows with its own clock (minuteStamp); give both sides the same number.
      await reference.db.kysely.transaction().execute((trx) => upsertBuckets(trx, rows, at, 'replace'));
    }
    const got = await stored(bulk.db);
    expect(got).toHaveLength(1_500);
    if (dialect === 'sqlite') expect(got).toEqual(await stored(reference.db));
    else
      expect(got.map((r) => r.slice(0, 4))).toEqual((await stored(reference.db)).map((r) => r.slice(0, 4)));
    // The hour sums (kept by the triggers' marks) agree with the minutes.
    const end = START + 600 * MIN;
    expect(await sumMinutes(bulk.db, KEYS, START, end)).toEqual(
      await sumMinutes(reference.db, KEYS, START, end),
    );
  });

  it('leave minutes whose counts did not change with their stamp', async () => {
    const before = await stored(bulk.db);
    await bulk.db.kysely
      .transaction()
      .execute((trx) => replaceBuckets(bulk.db, trx, buckets(1_500, 2), 9_000));
    expect(await stored(bulk.db)).toEqual(before);
  });

  it('store nothing of a batch with a bucket out of range', async () => {
    const before = await stored(bulk.db);
    const rows = buckets(450, 5);
    rows[300] = { ...rows[300]!, good: rows[300]!.total + 1 };
    const write = bulk.db.kysely.transaction().execute((trx) => replaceBuckets(bulk.db, trx, rows, 10_000));
    await expect(write).rejects.toBeInstanceOf(AppError);
    expect(await stored(bulk.db)).toEqual(before);
  });
});

const WITHOUT_ROWID = '0031_sli_minutes_without_rowid';
const BEFORE_WITHOUT_ROWID = MIGRATION_NAMES[MIGRATION_NAMES.indexOf(WITHOUT_ROWID) - 1]!;

/** SQLite: the table's shape; PostgreSQL: whether it is partitioned. */
async function shape(db: Db): Promise<unknown> {
  if (db.dialect === 'postgres')
    return (
      await sql<{ k: string }>`SELECT relkind AS k FROM pg_class WHERE oid = 'sli_minutes'::regclass`.execute(
        db.kysely,
      )
    ).rows[0]?.k;
  const rows = await sql<{
    type: string;
    name: string;
    sql: string | null;
  }>`SELECT type, name, sql FROM sqlite_master
    WHERE tbl_name = 'sli_minutes' ORDER BY type, name`.execute(db.kysely);
  return rows.rows.map((r) =>
    r.type === 'table'
      ? `table ${/WITHOUT ROWID/i.test(r.sql ?? '') ? 'without rowid' : 'rowid'}`
      : `${r.type} ${r.name}`,
  );
}

describe.each(DIALECTS)('migration 0031 on %s', (dialect) => {
  let test: TestDatabase;
  let db: Db;

  beforeAll(async () => {
    test = await createTestDatabase(dialect);
    db = openDatabase(test.url);
    await migrateToLatest(db.kysely, { upTo: BEFORE_WITHOUT_ROWID });
  });

  afterAll(async () => {
    await db?.close();
    await test?.drop();
  });

  it('keeps every row, hour sum and trigger; down puts the rowid table and its covering index back', async () => {
    await db.kysely.transaction().execute((trx) => upsertBuckets(trx, buckets(500, 3), 1, 'add'));
    await refreshHourSums(db);
    await db.kysely.transaction().execute((trx) => upsertBuckets(trx, buckets(30, 4), 2, 'replace'));
    const before = { rows: await stored(db), marks: await marks(db), shape: await shape(db) };

    expect((await migrateToLatest(db.kysely)).applied).toEqual([WITHOUT_ROWID]);
    expect(await stored(db)).toEqual(before.rows);
    // Copying the rows marked no hour stale (their sums did not change).
    expect(await marks(db)).toBe(before.marks);
    if (dialect === 'sqlite') {
      expect(before.shape).toEqual([
        'index sli_minutes_counts',
        'index sli_minutes_feed',
        'index sqlite_autoindex_sli_minutes_1',
        'table rowid',
        'trigger sli_minutes_hours_delete',
        'trigger sli_minutes_hours_insert',
        'trigger sli_minutes_hours_update',
      ]);
      expect(await shape(db)).toEqual([
        'index sli_minutes_feed',
        'table without rowid',
        'trigger sli_minutes_hours_delete',
        'trigger sli_minutes_hours_insert',
        'trigger sli_minutes_hours_update',
      ]);
    } else expect(await shape(db)).toBe('p');

    // Writes work as before: the key refuses a duplicate, the triggers mark the hours they touch.
    await expect(
      sql`INSERT INTO sli_minutes VALUES ('api', ${START}, 1, 1, 1)`.execute(db.kysely),
    ).rejects.toThrow();
    await db.kysely.transaction().execute((trx) => upsertBuckets(trx, buckets(600, 5), 3, 'replace'));
    expect(await marks(db)).toBeGreaterThan(before.marks);
    const end = START + 600 * MIN;
    const sums = await sumMinutes(db, KEYS, START, end);
    const written = await stored(db);

    // Run again (a crash after the rebuild, before Kysely recorded it): nothing changes.
    await sql`DELETE FROM kysely_migration WHERE name = ${WITHOUT_ROWID}`.execute(db.kysely);
    expect((await migrateToLatest(db.kysely)).applied).toEqual([WITHOUT_ROWID]);
    expect(await stored(db)).toEqual(written);

    await migrateToLatest(db.kysely, { upTo: BEFORE_WITHOUT_ROWID });
    expect(await shape(db)).toEqual(before.shape);
    expect(await stored(db)).toEqual(written);
    expect(await sumMinutes(db, KEYS, START, end)).toEqual(sums);
  });
});

async function marks(db: Db): Promise<number> {
  const row = await db.kysely
    .selectFrom('sli_dirty_hours')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
