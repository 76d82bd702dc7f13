import type { Command } from 'commander';
import { applyMigrations, planMigrations } from '../../platform/db-maintenance.js';
import { configFrom, type DbFlags, withDatabaseFlags } from '../config-flags.js';
import type { CliIo } from '../io.js';
import { maintenanceErrors } from './backup.js';

export function registerMigrate(program: Command, io: CliIo, setExit: (code: number) => void): void {
  withDatabaseFlags(
    program
      .command('migrate')
      .description('bring the database schema up to date (the server also does at start)')
      .option('--dry-run', 'print the migrations that would run, in order, and change nothing'),
  ).action(async (flags: DbFlags & { dryRun?: boolean }) => {
    const url = configFrom({ 'db.url': flags.db }, flags.config).db.url;
    if (flags.dryRun) {
      const plan = await maintenanceErrors(() => planMigrations(url));
      for (const name of plan.pending) io.out(name);
      if (plan.newer.length)
        io.err(`the database was migrated by a newer Shinrai (${plan.newer.join(', ')}); nothing would run`);
      else
        io.err(
          plan.pending.length
            ? `${plan.pending.length} of ${plan.pending.length + plan.applied.length} migrations would run${plan.missing ? ' (the database does not exist yet)' : ''}; dry run: nothing was changed`
            : 'the schema is up to date; nothing would run',
        );
      setExit(0);
      return;
    }
    const done = await maintenanceErrors(() => applyMigrations(url));
    for (const name of done.applied) io.out(name);
    io.err(
      done.newer.length
        ? `the database was migrated by a newer Shinrai (${done.newer.join(', ')}); nothing was run`
        : done.applied.length
          ? `${done.applied.length} migrations applied`
          : 'the schema is up to date',
    );
    setExit(0);
  });
}
