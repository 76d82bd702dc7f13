/**
 * Long-range sums (the monthly report) read per-hour sums kept by triggers and refreshes; they must
 * equal the sums of the stored minutes whatever wrote them. On both databases: random writes by
 * ingestion (adding and replacing), deletes as retention makes them, a hand edit, and concurrent
 * writers racing refreshes — after each, every range (whole hours, ranges starting or ending at :30,
 * inside one hour) sums exactly as the minutes read back one by one. The migration's first fill
 * sums minutes that were there before it.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../src/demo/index.js';
import { type Db, openDatabase } from '../src/platform/db/database.js';
import { migrateToLatest } from '../src/platform/db/migrations.js';
import { type MinuteSums, readMinutes, refreshHourSums, sumMinutes } from '../src/slo/index.js';
import { upsertBuckets } from '../src/slo/ingest/service.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from './support/databases.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
/** 2026-11-01 00:00 UTC. */
const START = Date.UTC(2026, 10, 1);
const SPAN_HOURS = 30;
const KEYS = ['api', 'web', 'jobs'];

interface Bucket {
  storageKey: string;
  minuteMs: number;
  good: number;
  total: number;
}

/** Up to `n` random buckets, one per (key, minute), some with total 0. */
function randomBuckets(random: () => number, n: number): Bucket[] {
  const byKey = new Map<string, Bucket>();
  for (let i = 0; i < n; i++) {
    const storageKey = KEYS[Math.floor(random() * KEYS.length)]!;
    const minuteMs = START + Math.floor(random() * SPAN_HOURS * 60) * MIN;
    const total = random() < 0.1 ? 0 : Math.floor(random() * 50);
    byKey.set(`${storageKey}@${minuteMs}`, {
      storageKey,
      minuteMs,
      good: Math.floor(random() * (total + 1)),
      total,
    });
  }
  return [...byKey.values()];
}

/** The reference: the stored minutes of `[fromMs, toMs)` read back and summed here. */
async function rawSums(db: Db, fromMs: number, toMs: number): Promise<Map<string, MinuteSums>> {
  const out = new Map<string, MinuteSums>();
  for (const key of KEYS) {
    const rows = await readMinutes(db, key, fromMs, toMs);
    if (!rows.length) continue;
    out.set(key, {
      good: rows.reduce((n, r) => n + r.good, 0),
      bad: rows.reduce((n, r) => n + r.total - r.good, 0),
      total: rows.reduce((n, r) => n + r.total, 0),
      dataMinutes: rows.filter((r) => r.total > 0).length,
    });
  }
  return out;
}

const RANGES: ReadonlyArray<readonly [number, number]> = [
  [START, START + SPAN_HOURS * HOUR],
  [START + 30 * MIN, START + 20 * HOUR + 30 * MIN],
  [START + 3 * HOUR + 15 * MIN, START + 3 * HOUR + 45 * MIN],
  [START + 5 * HOUR, START + 6 * HOUR],
  [START + 59 * MIN, START + 61 * MIN],
  [START - 10 * HOUR, START + 2 * HOUR + 1 * MIN],
];

async function expectExact(db: Db): Promise<void> {
  for (const [fromMs, toMs] of RANGES) {
    const expected = await rawSums(db, fromMs, toMs);
    const got = await sumMinutes(db, KEYS, fromMs, toMs);
    // A key whose hours hold only empty minutes may answer zeros; the figures are the same.
    for (const key of KEYS)
      expect(
        got.get(key) ?? { good: 0, bad: 0, total: 0, dataMinutes: 0 },
        `${key} ${fromMs}..${toMs}`,
      ).toEqual(expected.get(key) ?? { good: 0, bad: 0, total: 0, dataMinutes: 0 });
  }
}

describe.each(DIALECTS)('hour sums on %s', (dialect) => {
  let testDb: TestDatabase;
  let db: Db;

  beforeAll(async () => {
    testDb = await createTestDatabase(dialect);
    db = openDatabase(testDb.url);
    await migrateToLatest(db.kysely);
  });

  afterAll(async () => {
    await db?.close();
    await testDb?.drop();
  });

  it('equal the minutes after ingestion adds, pulls replace, retention deletes and a hand edit', async () => {
    const random = seededRandom(7);
    for (let round = 0; round < 6; round++) {
      await db.kysely
        .transaction()
        .execute((trx) => upsertBuckets(trx, randomBuckets(random, 300), 1, 'add'));
      await expectExact(db);
      await db.kysely
        .transaction()
        .execute((trx) => upsertBuckets(trx, randomBuckets(random, 200), 2, 'replace'));
      await expectExact(db);
    }
    // Retention deletes old minutes in batches; a hand edit changes a count in place.
    await db.kysely
      .deleteFrom('sli_minutes')
      .where('minute_ts', '<', START + 4 * HOUR + 30 * MIN)
      .execute();
    await sql`UPDATE sli_minutes SET good = 0 WHERE sli = 'web' AND minute_ts >= ${START + 10 * HOUR}`.execute(
      db.kysely,
    );
    await expectExact(db);
    // Every mark was taken; the hours left are exactly the hours that have minutes.
    expect(await refreshHourSums(db)).toBe(0);
    const hours = await db.kysely.selectFrom('sli_hours').select(['sli', 'hour_ts']).execute();
    const minuteHours = await sql<{ sli: string; hour_ts: number }>`
      SELECT DISTINCT sli, (minute_ts / 3600000) * 3600000 AS hour_ts FROM sli_minutes`.execute(db.kysely);
    const key = (r: { sli: string; hour_ts: number | string }) => `${r.sli}@${Number(r.hour_ts)}`;
    expect(hours.map(key).sort()).toEqual(minuteHours.rows.map(key).sort());
  });

  it('equal the minutes with writers and refreshes racing', async () => {
    const random = seededRandom(11);
    const writers = Array.from({ length: 6 }, (_, w) =>
      (async () => {
        for (let i = 0; i < 8; i++) {
          // In ingestion's order (key, then minute), so the writers never deadlock on the minutes;
          // the marks are appended, so the triggers add no lock two writers could wait on.
          const buckets = randomBuckets(random, 120).sort(
            (a, b) => a.storageKey.localeCompare(b.storageKey) || a.minuteMs - b.minuteMs,
          );
          await db.kysely
            .transaction()
            .execute((trx) => upsertBuckets(trx, buckets, 10 + w, i % 2 ? 'add' : 'replace'));
          if (i % 3 === 0) await refreshHourSums(db);
        }
      })(),
    );
    const refresher = (async () => {
      for (let i = 0; i < 10; i++) await refreshHourSums(db);
    })();
    await Promise.all([...writers, refresher]);
    await expectExact(db);
  });

  it('are filled by the migration from the minutes stored before it', async () => {
    await db.kysely.deleteFrom('sli_hours').execute();
    await db.kysely.deleteFrom('sli_dirty_hours').execute();
    await sql`DELETE FROM kysely_migration WHERE name >= '0022_sli_hours'`.execute(db.kysely);
    await migrateToLatest(db.kysely);
    expect(await db.kysely.selectFrom('sli_dirty_hours').select('id').execute()).toEqual([]);
    await expectExact(db);
  });
});
