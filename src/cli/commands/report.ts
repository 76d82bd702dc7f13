/**
 * `shinrai report --product checkout --month 2026-11 --lang ja --format md -o report.md`: one
 * product's monthly reliability report from a running server (GET /api/v1/reports/monthly), or
 * offline from a database named with --db/--config and the specs; rendered here as JSON or Markdown.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { AppError } from '../../platform/errors.js';
import {
  BUILT_IN_RENDERERS,
  documentRenderers,
  lastCompleteMonth,
  type MonthlyReport,
  monthlyReport,
  REPORT_FORMATS,
  type ReportFormat,
  type ReportLanguage,
  reportTimeZone,
} from '../../reports/index.js';
import { type Catalog, EMPTY_CATALOG } from '../../slo/index.js';
import { call, type ServerFlags, serverUrl } from '../api-client.js';
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

/**
 * The report in the asked format, rendered here: JSON pretty-printed, Markdown, one self-contained
 * HTML file, or PDF (the HTML printed by Chromium on this machine; a clear error when it has none).
 * Links in HTML and PDF start at `baseUrl` (the server, or reports.baseUrl offline).
 */
export async function renderReport(
  report: MonthlyReport,
  format: ReportFormat,
  options: { readonly baseUrl?: string | undefined; readonly chromiumPath?: string | undefined } = {},
): Promise<string | Buffer> {
  if (format === 'json') return `${JSON.stringify(report, null, 2)}\n`;
  const render = { ...BUILT_IN_RENDERERS, ...documentRenderers(options) }[format];
  if (!render) throw new CliError(`--format ${format} is not available: use json, md, html or pdf`, 2);
  try {
    return (await render(report)).body;
  } catch (error) {
    if (error instanceof AppError) throw new CliError(error.message, 1);
    throw error;
  }
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
      .option(
        '--format <format>',
        'md, json, html (one self-contained file) or pdf (printed by Chromium)',
        'md',
      )
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
    if (flags.out === undefined && format === 'pdf')
      throw new CliError('--format pdf writes a file: give -o report.pdf', 2);
    const offline = flags.db !== undefined || flags.config !== undefined;
    if (offline && (flags.server !== undefined || flags.token !== undefined))
      throw new CliError(
        'give either --server/--token (a running server) or --db/--config (offline), not both',
        2,
      );
    if (!offline && flags.specs !== undefined)
      throw new CliError('--specs is for offline reads (--db or --config); the server uses its own specs', 2);

    let baseUrlOffline: string | undefined;
    let chromiumPath: string | undefined;
    const report: MonthlyReport = offline
      ? await withDatabase(flags, async ({ db, clock, config }) => {
          baseUrlOffline = config.reports.baseUrl || undefined;
          chromiumPath = config.reports.chromiumPath;
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

    const text = await renderReport(report, format, {
      baseUrl: offline ? baseUrlOffline : serverUrl(flags),
      chromiumPath,
    });
    if (flags.out === undefined) io.out(String(text));
    else {
      const path = resolve(io.cwd, flags.out);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, text);
      io.err(`wrote ${flags.out}`);
    }
    setExit(0);
  });
}
