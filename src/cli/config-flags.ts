import type { Command } from 'commander';
import { type Config, ConfigError, loadConfig } from '../platform/config.js';
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
