/**
 * `shinrai backlog`: the reliability backlog from a running server — per service, open action
 * items and unmitigated risks ranked by budget minutes saved a year — as markdown, CSV or JSON.
 */
import type { Command } from 'commander';
import { backlogCsv, backlogMarkdown, type ServiceBacklog } from '../../risks/index.js';
import { call, type ServerFlags, withServerFlags } from '../api-client.js';
import { CliError, type CliIo } from '../io.js';

export function registerBacklog(program: Command, io: CliIo, setExit: (code: number) => void): void {
  withServerFlags(
    program
      .command('backlog')
      .description('reliability backlog: action items and risks ranked by budget minutes saved a year')
      .option('--service <name>', 'only this service')
      .option('--format <format>', 'markdown, csv or json', 'markdown'),
  ).action(async (flags: ServerFlags & { service?: string; format: string }) => {
    const format = flags.json ? 'json' : flags.format;
    if (!['markdown', 'csv', 'json'].includes(format))
      throw new CliError('--format must be markdown, csv or json', 2);
    const query = flags.service ? `?service=${encodeURIComponent(flags.service)}` : '';
    const backlog = (await call(flags, 'GET', `/api/v1/backlog${query}`)) as ServiceBacklog[];
    io.out(
      format === 'json'
        ? JSON.stringify(backlog, null, 2)
        : format === 'csv'
          ? backlogCsv(backlog).trimEnd()
          : backlogMarkdown(backlog),
    );
    setExit(0);
  });
}
