/**
 * `shinrai review`: the periodic review (recurring root causes, incidents and budget per service,
 * postmortems the budget policy requires, overdue action items) from a running server, as
 * markdown for the meeting or JSON.
 */
import type { Command } from 'commander';
import { type Review, reviewMarkdown } from '../../incidents/index.js';
import { call, type ServerFlags, withServerFlags } from '../api-client.js';
import { CliError, type CliIo } from '../io.js';

export function registerReview(program: Command, io: CliIo, setExit: (code: number) => void): void {
  withServerFlags(
    program
      .command('review')
      .description('periodic review across incidents and postmortems, as markdown (or --json)')
      .option(
        '--from <when>',
        'start: YYYY-MM-DD (midnight in incidents.timeZone) or a date-time (default: 30 days before --to)',
      )
      .option('--to <when>', 'end, exclusive (default: now)')
      .option('--lang <lang>', 'en or ja', 'en'),
  ).action(async (flags: ServerFlags & { from?: string; to?: string; lang: string }) => {
    if (flags.lang !== 'en' && flags.lang !== 'ja') throw new CliError('--lang must be en or ja', 2);
    const query = new URLSearchParams();
    if (flags.from) query.set('from', flags.from);
    if (flags.to) query.set('to', flags.to);
    const review = (await call(flags, 'GET', `/api/v1/reviews?${query}`)) as Review;
    io.out(flags.json ? JSON.stringify(review, null, 2) : reviewMarkdown(review, flags.lang));
    setExit(0);
  });
}
