import { afterEach, describe, expect, it } from 'vitest';
import { type Db, openDatabase } from '../src/platform/db/database.js';
import { MIGRATION_NAMES, migrateToLatest } from '../src/platform/db/migrations.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from './support/databases.js';

describe.each(DIALECTS)('database on %s', (dialect) => {
  let testDb: TestDatabase;
  let db: Db;
  afterEach(async () => {
    await db?.close();
    await testDb?.drop();
  });

  it('applies every migration once and reports what it did', async () => {
    testDb = await createTestDatabase(dialect);
    db = openDatabase(testDb.url);
    expect(db.dialect).toBe(dialect);
    const first = await migrateToLatest(db.kysely);
    expect(first.applied).toEqual(MIGRATION_NAMES);
    const second = await migrateToLatest(db.kysely);
    expect(second).toEqual({ applied: [], alreadyApplied: MIGRATION_NAMES.length });
  });

  it('stores epoch milliseconds and fractional counts exactly', async () => {
    testDb = await createTestDatabase(dialect);
    db = openDatabase(testDb.url);
    await migrateToLatest(db.kysely);
    const minute = Date.UTC(2026, 10, 23, 9, 0);
    await db.kysely
      .insertInto('sli_minutes')
      .values({ sli: 'a', minute_ts: minute, good: 0.5, total: 1.25, updated_at: minute })
      .execute();
    const row = await db.kysely.selectFrom('sli_minutes').selectAll().executeTakeFirstOrThrow();
    expect(row).toEqual({ sli: 'a', minute_ts: minute, good: 0.5, total: 1.25, updated_at: minute });
  });
});
