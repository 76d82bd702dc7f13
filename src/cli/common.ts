import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { DateTime } from 'luxon';
import type { BudgetReport, Catalog } from '../slo/index.js';
import { type CountRow, formatDiagnostic, loadSpecs, parseDataFile } from '../slo/index.js';
import { budgetTable } from './format.js';
import { CliError, type CliIo } from './io.js';

/** Loads specs for a command that needs them valid; errors stop it with one readable line. */
export async function loadValidCatalog(path: string, io: CliIo): Promise<Catalog> {
  const result = await loadSpecs(path, io.cwd);
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) {
    const more =
      errors.length > 1 ? ` (and ${errors.length - 1} more; run \`shinrai validate ${path}\`)` : '';
    throw new CliError(`${formatDiagnostic(errors[0]!)}${more}`);
  }
  if (result.catalog.slos.length === 0) throw new CliError(`no SLOs found in ${path}`);
  return result.catalog;
}

/** Reads a data file of SLI counts (NDJSON or CSV); a bad line stops the command with file:line. */
export async function readCountRows(path: string, format: string | undefined): Promise<CountRow[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new CliError(
      `cannot read data file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  if (format && format !== 'ndjson' && format !== 'csv')
    throw new CliError(`--format must be ndjson or csv, not "${format}"`, 2);
  const parsed = parseDataFile(
    text,
    (format as 'ndjson' | 'csv' | undefined) ?? (extname(path).toLowerCase() === '.csv' ? 'csv' : undefined),
  );
  if (!parsed.ok) {
    const [first] = parsed.problems;
    const more =
      parsed.problems.length > 1
        ? ` (and ${parsed.problems.length - 1} more bad line${parsed.problems.length > 2 ? 's' : ''})`
        : '';
    throw new CliError(`${path}:${first!.line}: ${first!.message}${more}`);
  }
  return parsed.rows;
}

export function parseAt(at: string | undefined, io: CliIo): number {
  if (at === undefined) return io.now().getTime();
  const parsed = DateTime.fromISO(at, { zone: 'utc', setZone: true });
  if (!parsed.isValid)
    throw new CliError(`--at "${at}" is not an ISO 8601 time (e.g. 2026-11-23T09:00:00Z)`, 2);
  return parsed.toMillis();
}

export function formatBudgetHuman(report: BudgetReport): string {
  return `Error budgets at ${report.at}\n\n${budgetTable(report)}`;
}
