/**
 * Opens the database from one URL: a file path (SQLite, the embedded default) or a
 * postgres:// URL. Both sides get the same Kysely<Database> and the same migrations.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';

export type Dialect = 'sqlite' | 'postgres';

export interface Db {
  readonly kysely: Kysely<Database>;
  readonly dialect: Dialect;
  /** The URL with any password hidden, for logs. */
  readonly displayUrl: string;
  /**
   * SQLite only: the connection Kysely runs on, for bulk writes through reused prepared statements
   * (Kysely builds and prepares each statement anew). Inside a Kysely transaction on SQLite its
   * statements are part of that transaction: it is the same, single connection.
   */
  readonly sqlite?: SQLite.Database;
  close(): Promise<void>;
}

export function dialectOf(url: string): Dialect {
  return /^postgres(ql)?:\/\//i.test(url) ? 'postgres' : 'sqlite';
}

/** Thrown when a SQLite file that must exist (a read) does not: nothing is created. */
export class DatabaseMissingError extends Error {
  constructor(readonly file: string) {
    super(`no database at ${file}`);
  }
}

/**
 * Opens the database. `mustExist` is for reads (CLI commands): a missing SQLite file is a
 * DatabaseMissingError instead of a new, empty database created as a side effect.
 */
export function openDatabase(url: string, options: { poolSize?: number; mustExist?: boolean } = {}): Db {
  if (dialectOf(url) === 'postgres') {
    const pool = new pg.Pool({
      connectionString: url,
      max: options.poolSize ?? 10,
      // int8 columns hold epoch milliseconds: exact as JS numbers, so read them as numbers.
      types: {
        getTypeParser: (oid: number, format?: string) =>
          oid === 20 ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format as 'text'),
      },
    });
    // An idle client losing its connection must not crash the process; the pool replaces it.
    pool.on('error', () => {});
    // Nor may a checked-out one: pg-pool removes its idle listener while a client is lent, and
    // node-postgres emits 'error' on a client whose connection drops even mid-query, so without
    // this a PostgreSQL restart or a network cut crashed the process. The query itself still
    // fails (its promise rejects), and the pool drops the client when it is released.
    pool.on('connect', (client) => client.on('error', () => {}));
    const kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return { kysely, dialect: 'postgres', displayUrl: hidePassword(url), close: () => kysely.destroy() };
  }
  const file = url.replace(/^sqlite:(\/\/)?/i, '');
  if (file !== ':memory:') {
    if (options.mustExist && !existsSync(file)) throw new DatabaseMissingError(file);
    mkdirSync(dirname(file), { recursive: true });
  }
  const sqlite = new SQLite(file, { fileMustExist: options.mustExist === true && file !== ':memory:' });
  // WAL lets readers run beside the writer; FULL sync makes a committed batch survive power loss.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  const kysely = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  return { kysely, dialect: 'sqlite', displayUrl: file, sqlite, close: () => kysely.destroy() };
}

/** Round-trips the database (readiness checks); rejects when it is unreachable. */
export async function ping(db: Db): Promise<void> {
  await sql`select 1`.execute(db.kysely);
}

function hidePassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

/** A write refused because a row with the same key exists (a concurrent insert won the race), on either database. */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
