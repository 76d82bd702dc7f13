/**
 * `shinrai report --product checkout --month 2026-11 --lang ja --format md -o report.md`: one
 * product's monthly reliability report from a running server (GET /api/v1/reports/monthly), or
 * offline from a database named with --db/--config and the specs; rendered here as JSON or Markdown.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import {
  BUILT_IN_RENDERERS,
  lastCompleteMonth,
  type MonthlyReport,
  monthlyReport,
  REPORT_FORMATS,
  type ReportFormat,
  type ReportLanguage,
  reportTimeZone,
} from '../../reports/index.js';
import { type Catalog, EMPTY_CATALOG } from '../../slo/index.js';
import { call, type ServerFlags } from '../api-client.js';
import { loadValidCatalog } from '../common.js';
import { type DbFlags, withDatabase, withDatabaseFlags } from '../config-flags.js';
import { CliError, type CliIo } from '../io.js';

interface ReportFlags extends DbFlags, ServerFlags {
  product: string;
  month?: string;
  lang: string;
  format: string;
  out?: string;
  specs?: string;
}

const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;

/** The report in a format this CLI renders (JSON pretty-printed, Markdown); others say so. */
export function renderReport(report: MonthlyReport, format: ReportFormat): string {
  if (format === 'json') return `${JSON.stringify(report, null, 2)}\n`;
  const render = BUILT_IN_RENDERERS[format];
  if (!render) throw new CliError(`--format ${format} is not available yet: use json or md`, 2);
  const rendered = render(report);
  if (rendered instanceof Promise || typeof (rendered as { body?: unknown }).body !== 'string')
    throw new CliError(`--format ${format} is not available yet: use json or md`, 2);
  return (rendered as { body: string }).body;
}

export function registerReport(program: Command, io: CliIo, setExit: (code: number) => void): void {
  withDatabaseFlags(
    program
      .command('report')
      .description(
        "one product's monthly reliability report: verdict per SLO, what to do, trend, incidents, action items, risks, alerts, delivery",
      )
      .requiredOption(
        '--product <product>',
        'a service, or owner:<team>, journey:<journey>, label:<key>=<value>',
      )
      .option(
        '--month <YYYY-MM>',
        'the calendar month (in reports.timeZone); default: the last complete month',
      )
      .option('--lang <lang>', 'en or ja', 'en')
      .option('--format <format>', 'json or md', 'md')
      .option('-o, --out <file>', 'write the report to this file instead of stdout')
      .option('--server <url>', 'Shinrai server (default: SHINRAI_URL or http://127.0.0.1:8420)')
      .option('--token <token>', 'API token (default: SHINRAI_TOKEN)')
      .option('--specs <path>', 'offline (--db/--config): the specs the server runs (default: specs.path)'),
  ).action(async (flags: ReportFlags) => {
    if (flags.lang !== 'en' && flags.lang !== 'ja') throw new CliError('--lang must be en or ja', 2);
    if (!(REPORT_FORMATS as readonly string[]).includes(flags.format))
      throw new CliError(`--format must be one of ${REPORT_FORMATS.join(', ')}`, 2);
    if (flags.month !== undefined && !MONTH.test(flags.month))
      throw new CliError(`--month ${JSON.stringify(flags.month)} is not a month such as 2026-11`, 2);
    const format = flags.format as ReportFormat;
    const language = flags.lang as ReportLanguage;
    const offline = flags.db !== undefined || flags.config !== undefined;
    if (offline && (flags.server !== undefined || flags.token !== undefined))
      throw new CliError(
        'give either --server/--token (a running server) or --db/--config (offline), not both',
        2,
      );
    if (!offline && flags.specs !== undefined)
      throw new CliError('--specs is for offline reads (--db or --config); the server uses its own specs', 2);
    // Fail on a format this CLI cannot render before asking anyone for the data.
    if (format !== 'json' && !BUILT_IN_RENDERERS[format])
      throw new CliError(`--format ${format} is not available yet: use json or md`, 2);

    const report: MonthlyReport = offline
      ? await withDatabase(flags, async ({ db, clock, config }) => {
          const specs = flags.specs ?? config.specs.path;
          if (!specs)
            throw new CliError('offline reports need the specs: give --specs <path> (or specs.path)', 2);
          const catalog: Catalog = specs ? await loadValidCatalog(specs, io) : EMPTY_CATALOG;
          const timeZone = reportTimeZone(config);
          const incidents = { db, clock, timeZone: config.incidents.timeZone, catalog: () => catalog };
          return monthlyReport(
            {
              db,
              clock,
              catalog: () => catalog,
              timeZone,
              tooBigShare: config.risks.tooBigShare,
              incidents,
              delivery: {
                db,
                clock,
                catalog: () => catalog,
                settings: config.delivery,
                defaultTimeZone: config.incidents.timeZone,
                incidents,
              },
            },
            {
              product: flags.product,
              month: flags.month ?? lastCompleteMonth(clock.now(), timeZone),
              language,
            },
          );
        })
      : ((await call(
          flags,
          'GET',
          `/api/v1/reports/monthly?${new URLSearchParams({
            product: flags.product,
            ...(flags.month === undefined ? {} : { month: flags.month }),
            lang: language,
            format: 'json',
          })}`,
        )) as MonthlyReport);

    const text = renderReport(report, format);
    if (flags.out === undefined) io.out(text);
    else {
      const path = resolve(io.cwd, flags.out);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, text);
      io.err(`wrote ${flags.out}`);
    }
    setExit(0);
  });
}
