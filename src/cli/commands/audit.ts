/**
 * `shinrai audit`: the audit log from a running server (admin token): a table of the newest events,
 * or every matching event as NDJSON (`--ndjson`, the pages followed to the end).
 */
import type { Command } from 'commander';
import { fixedDurationMs, parseDuration } from '../../slo/index.js';
import { call, type ServerFlags, withServerFlags } from '../api-client.js';
import { table } from '../format.js';
import { CliError, type CliIo } from '../io.js';

interface AuditEventView {
  id: string;
  at: string;
  actor: string;
  credential: string;
  action: string;
  target: { type: string; id: string };
  changes: { before: Record<string, unknown>; after: Record<string, unknown> };
  clientAddress: string | null;
  /** Absent from servers older than the teams column. */
  teams?: string[];
}

type AuditFlags = ServerFlags & {
  since?: string;
  until?: string;
  action?: string;
  actor?: string;
  targetType?: string;
  targetId?: string;
  team?: string;
  limit: string;
  ndjson?: boolean;
};

/** An instant: a date-time, a day (UTC midnight), or a duration ago (`24h`, `7d`). */
export function instantOf(text: string, nowMs: number, flag: string): string {
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) {
    const ms = Date.parse(`${text}T00:00:00Z`);
    if (!Number.isNaN(ms)) return new Date(ms).toISOString();
  } else if (/^\d{4}-\d{2}-\d{2}T/.test(text)) {
    const ms = Date.parse(text);
    if (!Number.isNaN(ms)) return new Date(ms).toISOString();
  } else {
    const parsed = parseDuration(text);
    const ms = parsed.ok ? fixedDurationMs(parsed.value) : undefined;
    if (ms !== undefined) return new Date(nowMs - ms).toISOString();
  }
  throw new CliError(`${flag} must be a date (2026-12-01), a date-time or a duration ago (24h, 7d)`, 2);
}

const PAGE = 500;

export function registerAudit(program: Command, io: CliIo, setExit: (code: number) => void): void {
  withServerFlags(
    program
      .command('audit')
      .description(
        'the audit log (admin token): who changed what, newest first; --ndjson exports every match',
      )
      .option('--since <when>', 'from: 2026-12-01, a date-time, or a duration ago such as 7d')
      .option('--until <when>', 'before: the same forms')
      .option('--action <prefix>', 'actions starting with this, e.g. incident or risk.update')
      .option('--actor <name>', 'exactly this actor')
      .option('--target-type <type>', 'e.g. incident, risk, silence, token')
      .option('--target-id <id>', 'e.g. INC-42')
      .option('--team <team>', 'events touching what this team owns')
      .option('--limit <n>', 'events in the table (1–500)', '50')
      .option('--ndjson', 'every matching event, one JSON object a line'),
  ).action(async (flags: AuditFlags) => {
    const nowMs = io.now().getTime();
    const query = new URLSearchParams();
    if (flags.since) query.set('since', instantOf(flags.since, nowMs, '--since'));
    if (flags.until) query.set('until', instantOf(flags.until, nowMs, '--until'));
    if (flags.action) query.set('action', flags.action);
    if (flags.actor) query.set('actor', flags.actor);
    if (flags.targetType) query.set('targetType', flags.targetType);
    if (flags.targetId) query.set('targetId', flags.targetId);
    if (flags.team) query.set('team', flags.team);
    const limit = Number(flags.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > PAGE)
      throw new CliError(`--limit must be a whole number from 1 to ${PAGE}`, 2);
    const page = async (size: number, cursor: string | null) => {
      const q = new URLSearchParams(query);
      q.set('limit', String(size));
      if (cursor) q.set('cursor', cursor);
      return (await call(flags, 'GET', `/api/v1/audit?${q}`)) as {
        events: AuditEventView[];
        nextCursor: string | null;
      };
    };
    if (flags.ndjson) {
      // Pages of JSON rather than the server's NDJSON stream: the same lines, and each page's
      // error (a 403, a bad filter) is one readable line like every other command's.
      let cursor: string | null = null;
      do {
        const answer = await page(PAGE, cursor);
        for (const event of answer.events) io.out(JSON.stringify(event));
        cursor = answer.nextCursor;
      } while (cursor !== null);
      setExit(0);
      return;
    }
    const { events } = await page(limit, null);
    if (flags.json) io.out(JSON.stringify(events, null, 2));
    else if (!events.length) io.err('no audit events match');
    else
      io.out(
        table(
          ['AT', 'ACTOR', 'CREDENTIAL', 'ACTION', 'TARGET', 'TEAMS', 'CHANGED', 'FROM'],
          events.map((e) => [
            e.at,
            e.actor,
            e.credential,
            e.action,
            `${e.target.type} ${e.target.id}`,
            e.teams?.join(', ') || '—',
            [...new Set([...Object.keys(e.changes.before), ...Object.keys(e.changes.after)])].join(', ') ||
              '—',
            e.clientAddress ?? '—',
          ]),
        ),
      );
    setExit(0);
  });
}
