import type { Command } from 'commander';
import { backupDatabase, MaintenanceError } from '../../platform/db-maintenance.js';
import { configFrom, type DbFlags, withDatabaseFlags } from '../config-flags.js';
import { CliError, type CliIo } from '../io.js';

/** Databases with at least this many pages (64 MiB at 4 KiB a page) print their progress. */
const PROGRESS_FROM_PAGES = 16_384;

export function registerBackup(program: Command, io: CliIo, setExit: (code: number) => void): void {
  withDatabaseFlags(
    program
      .command('backup')
      .description('copy the SQLite database to a file, safely while the server runs (PostgreSQL: pg_dump)')
      .requiredOption('-o, --output <file>', 'the backup file to write (a new file)')
      .option('--force', 'replace the output file when it exists'),
  ).action(async (flags: DbFlags & { output: string; force?: boolean }) => {
    const url = configFrom({ 'db.url': flags.db }, flags.config).db.url;
    let shownTenth = 0;
    const done = await maintenanceErrors(() =>
      backupDatabase(url, flags.output, {
        force: flags.force,
        onProgress: ({ totalPages, remainingPages }) => {
          if (totalPages < PROGRESS_FROM_PAGES) return;
          const tenth = Math.floor(((totalPages - remainingPages) / totalPages) * 10);
          if (tenth > shownTenth) {
            shownTenth = tenth;
            io.err(`backup: ${tenth * 10}% of ${totalPages.toLocaleString('en')} pages`);
          }
        },
      }),
    );
    io.err(`backed up ${url} to ${flags.output} (${(done.bytes / 1024 / 1024).toFixed(1)} MiB)`);
    setExit(0);
  });
}

/** Runs a maintenance step; what went wrong becomes one line and exit 1. */
export async function maintenanceErrors<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof CliError) throw error;
    if (error instanceof MaintenanceError) throw new CliError(error.message);
    throw new CliError(`database: ${(error as Error).message}`);
  }
}
