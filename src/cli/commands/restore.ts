import type { Command } from 'commander';
import { restoreDatabase } from '../../platform/db-maintenance.js';
import { configFrom, type DbFlags, withDatabaseFlags } from '../config-flags.js';
import type { CliIo } from '../io.js';
import { maintenanceErrors } from './backup.js';

export function registerRestore(program: Command, io: CliIo, setExit: (code: number) => void): void {
  withDatabaseFlags(
    program
      .command('restore')
      .description(
        'restore a backup into the SQLite database (stop the server first); migrates an older backup',
      )
      .argument('<file>', 'a file written by shinrai backup')
      .option('--force', 'replace a database that already holds data'),
  ).action(async (file: string, flags: DbFlags & { force?: boolean }) => {
    const url = configFrom({ 'db.url': flags.db }, flags.config).db.url;
    const done = await maintenanceErrors(() => restoreDatabase(file, url, { force: flags.force }));
    io.err(
      `restored ${file} to ${url}${done.migrated.length ? `; migrations applied: ${done.migrated.join(', ')}` : ''}`,
    );
    setExit(0);
  });
}
