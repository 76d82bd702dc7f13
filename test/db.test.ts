import { sql } from 'kysely';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { type Db, openDatabase } from '../src/platform/db/database.js';
import { MIGRATION_NAMES, migrateToLatest } from '../src/platform/db/migrations.js';
import { createTestDatabase, DIALECTS, PG_URL, type TestDatabase } from './support/databases.js';

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

  it('forgets error text stored before remote failures were summarised (it may quote a remote body)', async () => {
    testDb = await createTestDatabase(dialect);
    db = openDatabase(testDb.url);
    await migrateToLatest(db.kysely);
    const body = 'HTTP 500: REMOTE-BODY-SECRET';
    await db.kysely
      .insertInto('source_cursors')
      .values({
        sli: 's',
        source: 'p',
        plan_hash: '',
        from_ms: 0,
        synced_until_ms: 0,
        last_success_at: null,
        failures: 1,
        last_error: body,
        last_error_at: 1,
        updated_at: 1,
      })
      .execute();
    await db.kysely
      .insertInto('notification_outbox')
      .values({
        id: 'n',
        target: 't',
        fingerprint: 'f',
        transition: 'firing',
        payload: '{}',
        created_at: 1,
        attempts: 1,
        next_attempt_at: 1,
        delivered_at: null,
        gave_up_at: null,
        last_error: body,
      })
      .execute();
    // As if the database were from before the migration: it runs again.
    // (with the migrations after it, which Kysely runs only in order; they are idempotent)
    await sql`DELETE FROM kysely_migration WHERE name >= '0012_forget_remote_error_text'`.execute(db.kysely);
    expect((await migrateToLatest(db.kysely)).applied).toEqual(
      MIGRATION_NAMES.filter((name) => name >= '0012_forget_remote_error_text'),
    );
    expect(await db.kysely.selectFrom('source_cursors').select('last_error').execute()).toEqual([
      { last_error: null },
    ]);
    expect(await db.kysely.selectFrom('notification_outbox').select('last_error').execute()).toEqual([
      { last_error: null },
    ]);
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

describe('migrations on a shared PostgreSQL', () => {
  it('are not thrown off by other schemas dropped while Kysely lists the tables', async () => {
    // Neighbours create and drop schemas (with a table, so the listing sees them) the whole time.
    const churn = new pg.Client({ connectionString: PG_URL });
    await churn.connect();
    let running = true;
    const churning = (async () => {
      for (let i = 0; running; i++) {
        const name = `churn_${process.pid}_${i}`;
        await churn.query(`CREATE SCHEMA ${name}; CREATE TABLE ${name}.t (a int, b int, c int)`);
        await churn.query(`DROP SCHEMA ${name} CASCADE`);
      }
    })();
    try {
      for (let i = 0; i < 8; i++) {
        const testDb = await createTestDatabase('postgres');
        const db = openDatabase(testDb.url);
        try {
          expect((await migrateToLatest(db.kysely)).applied).toEqual(MIGRATION_NAMES);
        } finally {
          await db.close();
          await testDb.drop();
        }
      }
    } finally {
      running = false;
      await churning;
      await churn.end();
    }
  });
});
