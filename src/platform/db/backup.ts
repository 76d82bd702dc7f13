/**
 * SQLite backups and restores (`shinrai backup`, `shinrai restore`): the online backup API copies a
 * live database inside one read snapshot, so a server may keep writing; a restore is checked,
 * migrated and renamed into place, so the target is either the old database or the whole new one.
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import SQLite from 'better-sqlite3';
import { openDatabase } from './database.js';
import { MIGRATION_NAMES, migrateToLatest } from './migrations.js';

/** A failure the operator can fix (wrong file, existing target): its message is the whole story. */
export class MaintenanceError extends Error {}

export interface BackupProgress {
  readonly totalPages: number;
  readonly remainingPages: number;
}

/** Pages copied per step of the backup API; between steps the process stays responsive. */
const PAGES_PER_STEP = 1024;

/** Copies the SQLite database `source` to `target` (a new file unless `force`), consistently while it is written to. */
export async function backupSqlite(
  source: string,
  target: string,
  options: { force?: boolean; onProgress?: (progress: BackupProgress) => void } = {},
): Promise<{ pages: number; bytes: number }> {
  if (existsSync(target) && !options.force)
    throw new MaintenanceError(`${target} exists: choose another file, or --force to replace it`);
  const db = openExisting(source);
  const temp = tempBeside(target);
  let pages = 0;
  try {
    checkShinrai(db, source);
    db.pragma('busy_timeout = 5000');
    // One read transaction across all steps: the copy is the snapshot it started with. Without it,
    // SQLite restarts the copy whenever another connection (the server) commits, which under
    // steady ingestion may never end.
    db.exec('BEGIN');
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    await db.backup(temp, {
      progress: (progress) => {
        pages = progress.totalPages;
        options.onProgress?.(progress);
        return PAGES_PER_STEP;
      },
    });
    db.exec('COMMIT');
    db.close();
    renameSync(temp, target);
    return { pages, bytes: statSync(target).size };
  } catch (error) {
    if (db.open) db.close();
    removeDatabaseFiles(temp);
    throw error;
  }
}

/**
 * Restores the backup `file` into the SQLite database `target`: refuses a file that is not a
 * (sound) Shinrai database or comes from a newer version, and a target holding tables unless
 * `force`; applies the migrations the backup lacks. The server must not be running on `target`.
 */
export async function restoreSqlite(
  file: string,
  target: string,
  options: { force?: boolean } = {},
): Promise<{ migrated: readonly string[] }> {
  if (!existsSync(file)) throw new MaintenanceError(`no backup at ${file}`);
  if (!options.force && holdsData(target))
    throw new MaintenanceError(
      `${target} already holds a database: --force replaces it (stop the server first)`,
    );
  mkdirSync(dirname(target), { recursive: true });
  // Work on a copy beside the target: the backup stays untouched, and the rename below is atomic.
  const temp = tempBeside(target);
  try {
    copyFileSync(file, temp);
    const copy = openExisting(temp, file);
    try {
      checkShinrai(copy, file);
      const newer = copy
        .prepare<[], { name: string }>('SELECT name FROM kysely_migration')
        .all()
        .map((row) => row.name)
        .filter((name) => !MIGRATION_NAMES.includes(name));
      if (newer.length)
        throw new MaintenanceError(
          `${file} was made by a newer Shinrai (migrations ${newer.join(', ')}): restore it with that version`,
        );
      const integrity = copy.pragma('integrity_check', { simple: true });
      if (integrity !== 'ok')
        throw new MaintenanceError(`${file} is damaged: integrity_check says ${String(integrity)}`);
    } finally {
      copy.close();
    }
    const db = openDatabase(temp, { mustExist: true });
    let migrated: readonly string[];
    try {
      migrated = (await migrateToLatest(db.kysely)).applied;
    } finally {
      // The last connection to close checkpoints the WAL into the file and deletes it.
      await db.close();
    }
    // The old database's WAL must not be replayed onto the new file.
    removeDatabaseFiles(target);
    renameSync(temp, target);
    return { migrated };
  } catch (error) {
    removeDatabaseFiles(temp);
    throw error;
  }
}

function openExisting(file: string, shownAs = file): SQLite.Database {
  if (!existsSync(file)) throw new MaintenanceError(`no database at ${shownAs}`);
  try {
    const db = new SQLite(file, { fileMustExist: true });
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    return db;
  } catch (error) {
    if ((error as { code?: string }).code === 'SQLITE_NOTADB')
      throw new MaintenanceError(`${shownAs} is not an SQLite database`);
    throw error;
  }
}

function checkShinrai(db: SQLite.Database, shownAs: string): void {
  const table = db
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'kysely_migration'")
    .get();
  if (!table)
    throw new MaintenanceError(`${shownAs} is not a Shinrai database (it has no kysely_migration table)`);
}

/** True when `file` exists and is not an empty database (an empty file or one without tables is free to replace). */
function holdsData(file: string): boolean {
  if (!existsSync(file) || statSync(file).size === 0) return false;
  try {
    const db = new SQLite(file, { readonly: true, fileMustExist: true });
    try {
      return (db.prepare<[], { n: number }>('SELECT count(*) AS n FROM sqlite_master').get()?.n ?? 0) > 0;
    } finally {
      db.close();
    }
  } catch {
    return true;
  }
}

function tempBeside(target: string): string {
  return join(dirname(target), `.${basename(target)}.${randomBytes(4).toString('hex')}.tmp`);
}

function removeDatabaseFiles(file: string): void {
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${file}${suffix}`, { force: true });
}
