/**
 * The database for one command run outside the server (the CLI's offline commands): opened on
 * the configured URL, migrated, handed to services, closed. Commands get the handle to pass on,
 * never the query builder's module.
 */
import { type Clock, systemClock } from './clock.js';
import type { Config } from './config.js';
import { DatabaseMissingError, type Db, migrateToLatest, openDatabase } from './db/index.js';

/** What a service called from a command gets. */
export interface SessionDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly config: Config;
}

export interface DatabaseSession {
  readonly deps: SessionDeps;
  /** The URL without its password, for messages. */
  readonly displayUrl: string;
  /** Brings the schema up to date (a no-op when it is). */
  migrate(): Promise<void>;
  close(): Promise<void>;
}

export type OpenSession =
  | { readonly ok: true; readonly session: DatabaseSession }
  /** `missingFile`: the SQLite file that does not exist (and was not created); else `error` says why. */
  | { readonly ok: false; readonly missingFile?: string; readonly error: string };

/**
 * Opens the configured database. Only `create: true` (a command that sets a database up) may
 * create a missing SQLite file; otherwise a missing file is reported and nothing is created.
 */
export function openDatabaseSession(config: Config, options: { create?: boolean } = {}): OpenSession {
  let db: Db;
  try {
    db = openDatabase(config.db.url, { mustExist: !options.create });
  } catch (error) {
    if (error instanceof DatabaseMissingError)
      return { ok: false, missingFile: error.file, error: error.message };
    return { ok: false, error: (error as Error).message };
  }
  return {
    ok: true,
    session: {
      deps: { db, clock: systemClock, config },
      displayUrl: db.displayUrl,
      migrate: async () => {
        await migrateToLatest(db.kysely);
      },
      close: () => db.close(),
    },
  };
}
