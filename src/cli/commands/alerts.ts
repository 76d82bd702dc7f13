/**
 * `shinrai alerts quality`: how useful the alerts were over the last days, from a running server
 * (GET /api/v1/alerts/quality), or offline from a database named explicitly with --db/--config.
 */
import type { Command } from 'commander';
import { type QualityReport, qualityReport } from '../../alerting/index.js';
import { type Catalog, EMPTY_CATALOG } from '../../slo/index.js';
import { call, type ServerFlags, withServerFlags } from '../api-client.js';
import { loadValidCatalog } from '../common.js';
import { type DbFlags, withDatabase, withDatabaseFlags } from '../config-flags.js';
import { percent, table } from '../format.js';
import { CliError, type CliIo } from '../io.js';

interface QualityFlags extends DbFlags, ServerFlags {
  days: string;
  specs?: string;
}

export function registerAlerts(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const alerts = program.command('alerts').description('burn-rate alerts: quality of what fired');
  withServerFlags(
    withDatabaseFlags(
      alerts
        .command('quality')
        .description(
          'pages a week, share marked noise, short-lived alerts and time to detect significant burns (from the server; offline with --db)',
        )
        .option('--days <days>', 'look back this many days', '28')
        .option(
          '--specs <path>',
          'offline (--db/--config): the specs the server runs (default: specs.path), for significant burns',
        ),
    ),
  ).action(async (flags: QualityFlags) => {
    const days = Number(flags.days);
    if (!Number.isInteger(days) || days < 1 || days > 400)
      throw new CliError('--days must be a whole number from 1 to 400', 2);
    const offline = flags.db !== undefined || flags.config !== undefined;
    if (!offline && flags.specs !== undefined)
      throw new CliError('--specs is for offline reads (--db or --config); the server uses its own specs', 2);
    if (offline && (flags.server !== undefined || flags.token !== undefined))
      throw new CliError(
        'give either --server/--token (a running server) or --db/--config (offline), not both',
        2,
      );
    const report: QualityReport = offline
      ? await withDatabase(flags, async ({ db, clock, config }) => {
          const specs = flags.specs ?? config.specs.path;
          const catalog: Catalog = specs ? await loadValidCatalog(specs, io) : EMPTY_CATALOG;
          if (!specs) io.err('warning: no --specs (or specs.path): significant burns are not reported');
          return qualityReport(db, catalog, clock.now(), days);
        })
      : ((await call(flags, 'GET', `/api/v1/alerts/quality?days=${days}`)) as QualityReport);
    if (flags.json) io.out(JSON.stringify(report, null, 2));
    else {
      io.out(`Alert quality ${report.from} – ${report.to}\n`);
      io.out(
        report.rules.length
          ? table(
              ['SLO', 'rule', 'firings', 'per week', 'judged', 'noise', 'resolved < 10 min'],
              report.rules.map((r) => [
                r.slo,
                r.rule,
                String(r.firings),
                r.perWeek.toFixed(2),
                String(r.withFeedback),
                r.noiseShare === null ? '—' : percent(r.noiseShare, 0),
                String(r.shortLived),
              ]),
            )
          : 'No alert fired.',
      );
      if (report.slos.length)
        io.out(
          `\n${table(
            ['SLO', 'significant burns', 'detected', 'median time to detect'],
            report.slos.map((s) => [
              s.slo,
              String(s.significantBurns),
              String(s.detected),
              s.medianMinutesToDetect === null ? '—' : `${s.medianMinutesToDetect} min`,
            ]),
          )}`,
        );
    }
    setExit(0);
  });
}
