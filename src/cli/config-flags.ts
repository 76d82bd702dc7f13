import type { Command } from 'commander';
import { type Config, ConfigError, loadConfig } from '../platform/config.js';
import { openDatabaseSession, type SessionDeps } from '../platform/db-session.js';
import { AppError } from '../platform/errors.js';
import { CliError } from './io.js';

/** Flags shared by commands that open the server's database. */
export function withDatabaseFlags(command: Command): Command {
  return command
    .option('--config <file>', 'YAML config file (flags > SHINRAI_* env > file > defaults)')
    .option('--db <url>', 'SQLite file or postgres:// URL (default: data/shinrai.db)');
}

/** Builds the configuration from flags given as `section.key` → value, plus the environment. */
export function configFrom(flags: Record<string, unknown>, configFile: string | undefined): Config {
  try {
    return loadConfig({ flags, env: process.env, file: configFile });
  } catch (error) {
    if (error instanceof ConfigError)
      throw new CliError(`invalid configuration:\n  ${error.problems.join('\n  ')}`, 2);
    throw error;
  }
}

export interface DbFlags {
  config?: string;
  db?: string;
}

/**
 * Opens the configured database (migrated) for one CLI command and closes it after; failures
 * become one readable line (AppError NotFound exits 1, other AppErrors 2). Only `create: true`
 * (a command that sets a database up, like `token create`) may create a missing SQLite file;
 * anything else stops with one line, so a command run in the wrong directory creates nothing.
 */
export async function withDatabase<T>(
  flags: DbFlags,
  run: (deps: SessionDeps) => Promise<T>,
  options: { create?: boolean } = {},
): Promise<T> {
  const config = configFrom({ 'db.url': flags.db }, flags.config);
  const opened = openDatabaseSession(config, options);
  if (!opened.ok) {
    if (opened.missingFile !== undefined)
      throw new CliError(
        `no database at ${opened.missingFile}: run this where the server keeps its data, or give --db <file or postgres:// URL> (nothing was created)`,
      );
    throw new CliError(`database: ${opened.error}`);
  }
  const { session } = opened;
  try {
    await session.migrate();
    return await run(session.deps);
  } catch (error) {
    if (error instanceof CliError) throw error;
    if (error instanceof AppError) throw new CliError(error.message, error.code === 'NotFound' ? 1 : 2);
    throw new CliError(`database ${session.displayUrl}: ${(error as Error).message}`);
  } finally {
    await session.close();
  }
}
