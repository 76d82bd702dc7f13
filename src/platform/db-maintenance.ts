/**
 * Database maintenance behind `shinrai backup`, `restore` and `migrate`: the CLI's way to the
 * database layer for these. PostgreSQL backups are refused with the tool to use instead.
 */
import {
  type BackupProgress,
  backupSqlite,
  DatabaseMissingError,
  dialectOf,
  MaintenanceError,
  type MigrationPlan,
  migrateToLatest,
  migrationPlan,
  openDatabase,
  restoreSqlite,
} from './db/index.js';

export { type BackupProgress, MaintenanceError, type MigrationPlan };

const USE_PG_TOOLS =
  'PostgreSQL is backed up and restored with its own tools: pg_dump --format=custom / pg_restore (docs/operations.md#backups)';

/** The SQLite file of a database URL, or a MaintenanceError for PostgreSQL. */
function sqliteFile(url: string): string {
  if (dialectOf(url) === 'postgres') throw new MaintenanceError(USE_PG_TOOLS);
  return url.replace(/^sqlite:(\/\/)?/i, '');
}

export function backupDatabase(
  url: string,
  output: string,
  options: { force?: boolean; onProgress?: (progress: BackupProgress) => void },
): Promise<{ pages: number; bytes: number }> {
  return backupSqlite(sqliteFile(url), output, options);
}

export function restoreDatabase(
  file: string,
  url: string,
  options: { force?: boolean },
): Promise<{ migrated: readonly string[] }> {
  return restoreSqlite(file, sqliteFile(url), options);
}

/** What `migrate` would run; a missing SQLite file (nothing created) would get every migration. */
export async function planMigrations(url: string): Promise<MigrationPlan & { missing: boolean }> {
  let db: ReturnType<typeof openDatabase>;
  try {
    db = openDatabase(url, { mustExist: true });
  } catch (error) {
    if (!(error instanceof DatabaseMissingError)) throw error;
    const empty = await withEmptyPlan();
    return { ...empty, missing: true };
  }
  try {
    return { ...(await migrationPlan(db.kysely)), missing: false };
  } finally {
    await db.close();
  }
}

/** Applies the pending migrations (creating a missing SQLite file, as the server would). */
export async function applyMigrations(
  url: string,
): Promise<{ applied: readonly string[]; newer: readonly string[] }> {
  const db = openDatabase(url);
  try {
    const report = await migrateToLatest(db.kysely);
    return { applied: report.applied, newer: report.newer ?? [] };
  } finally {
    await db.close();
  }
}

/** The plan of a database with no tables, read from an in-memory one. */
async function withEmptyPlan(): Promise<MigrationPlan> {
  const db = openDatabase(':memory:');
  try {
    return await migrationPlan(db.kysely);
  } finally {
    await db.close();
  }
}
