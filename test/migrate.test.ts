/**
 * `shinrai migrate [--dry-run]` on both databases (docs/operations.md#upgrades): the dry run lists
 * the pending migrations in order and changes nothing; the real run applies them; a schema a newer
 * version migrated is left as it is, unless it lacks a migration this version knows.
 */
import { existsSync } from 'node:fs';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/testing.js';
import { type Db, openDatabase } from '../src/platform/db/database.js';
import { MIGRATION_NAMES } from '../src/platform/db/migrations.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from './support/databases.js';

/** The tables of the database and the migrations it records: what a dry run must not change. */
async function snapshot(url: string): Promise<{ tables: string[]; migrations: string[] }> {
  const db: Db = openDatabase(url);
  try {
    const tables = (
      db.dialect === 'postgres'
        ? await sql<{ name: string }>`select table_name as name from information_schema.tables
            where table_schema = current_schema() order by 1`.execute(db.kysely)
        : await sql<{ name: string }>`select name from sqlite_master where type = 'table' order by 1`.execute(
            db.kysely,
          )
    ).rows.map((r) => r.name);
    const migrations = tables.includes('kysely_migration')
      ? (
          await sql<{ name: string }>`select name from kysely_migration order by name`.execute(db.kysely)
        ).rows.map((r) => r.name)
      : [];
    return { tables, migrations };
  } finally {
    await db.close();
  }
}

async function exec(url: string, statement: string): Promise<void> {
  const db = openDatabase(url);
  try {
    await sql.raw(statement).execute(db.kysely);
  } finally {
    await db.close();
  }
}

for (const dialect of DIALECTS) {
  describe(`shinrai migrate (${dialect})`, () => {
    let database: TestDatabase;
    afterEach(async () => database?.drop());

    it('--dry-run lists what would run and changes nothing; migrate applies it', async () => {
      database = await createTestDatabase(dialect);
      const fresh = await runCli(['migrate', '--dry-run', '--db', database.url]);
      expect(fresh.code).toBe(0);
      expect(fresh.stdout.trim().split('\n')).toEqual(MIGRATION_NAMES);
      expect(fresh.stderr).toMatch(/dry run: nothing was changed/);
      if (dialect === 'sqlite') expect(existsSync(database.url)).toBe(false);
      else expect(await snapshot(database.url)).toEqual({ tables: [], migrations: [] });

      const all = await runCli(['migrate', '--db', database.url]);
      expect(all.code).toBe(0);
      expect(all.stdout.trim().split('\n')).toEqual(MIGRATION_NAMES);

      // As a database of the version before the newest migration (migrations are idempotent).
      const newest = MIGRATION_NAMES.at(-1)!;
      await exec(database.url, `delete from kysely_migration where name = '${newest}'`);
      const before = await snapshot(database.url);
      const dry = await runCli(['migrate', '--dry-run', '--db', database.url]);
      expect(dry.code).toBe(0);
      expect(dry.stdout).toBe(`${newest}\n`);
      expect(await snapshot(database.url)).toEqual(before);

      const applied = await runCli(['migrate', '--db', database.url]);
      expect(applied.code).toBe(0);
      expect(applied.stdout).toBe(`${newest}\n`);
      expect((await snapshot(database.url)).migrations).toEqual(MIGRATION_NAMES);
      const again = await runCli(['migrate', '--dry-run', '--db', database.url]);
      expect(again.stdout).toBe('');
      expect(again.stderr).toMatch(/up to date/);
    });

    it("leaves a newer version's schema as it is, and refuses one that lacks a known migration", async () => {
      database = await createTestDatabase(dialect);
      expect((await runCli(['migrate', '--db', database.url])).code).toBe(0);
      await exec(
        database.url,
        "insert into kysely_migration (name, timestamp) values ('9999_from_a_newer_version', '2030-01-01T00:00:00.000Z')",
      );
      const newer = await runCli(['migrate', '--db', database.url]);
      expect(newer.code).toBe(0);
      expect(newer.stderr).toMatch(
        /migrated by a newer Shinrai \(9999_from_a_newer_version\); nothing was run/,
      );
      const dry = await runCli(['migrate', '--dry-run', '--db', database.url]);
      expect(dry.stdout).toBe('');
      expect(dry.stderr).toMatch(/newer Shinrai/);

      const newest = MIGRATION_NAMES.at(-1)!;
      await exec(database.url, `delete from kysely_migration where name = '${newest}'`);
      const broken = await runCli(['migrate', '--db', database.url]);
      expect(broken.code).toBe(1);
      expect(broken.stderr.trim()).toMatch(
        new RegExp(`^shinrai: database: the database was migrated by a newer Shinrai .* but lacks ${newest}`),
      );
    });
  });
}
