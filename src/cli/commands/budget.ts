import type { Command } from 'commander';
import { budgetReport } from '../../slo/index.js';
import { formatBudgetHuman, loadValidCatalog, parseAt, readCountRows } from '../common.js';
import type { CliIo } from '../io.js';

interface BudgetOptions {
  data: string;
  at?: string;
  json?: boolean;
  format?: string;
}

export function registerBudget(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('budget')
    .description('compute every SLO’s error budget, burn rates and time to exhaustion from a data file')
    .argument('<specs>', 'a spec file or directory')
    .requiredOption('--data <file>', 'SLI counts: NDJSON or CSV lines of {sli, ts, good|bad, total}')
    .option('--at <time>', 'evaluate at this ISO 8601 time (default: now)')
    .option('--format <format>', 'data format: ndjson or csv (default: from the file)')
    .option('--json', 'print the JSON report')
    .addHelpText(
      'after',
      `
Data lines:  {"sli": "checkout-availability", "ts": "2026-11-22T10:00:00Z", "good": 998, "total": 1000}
             ("bad" instead of "good" also works; "sli" names an SLO, an objective or an SLI)
CSV header:  sli,ts,good,total   (or sli,ts,bad,total)
Counts are summed per minute; coarser slices count on their first minute.`,
    )
    .action(async (specs: string, options: BudgetOptions) => {
      const atMs = parseAt(options.at, io);
      const catalog = await loadValidCatalog(specs, io);
      const rows = await readCountRows(options.data, options.format);
      const { report, unmatchedData } = budgetReport(catalog, rows, atMs);
      if (unmatchedData.length)
        io.err(
          `warning: data for ${unmatchedData.map((n) => `"${n}"`).join(', ')} matches no SLO, objective or SLI and was ignored`,
        );
      // An --at before (or far after) the data gives "no data": say what the data covers.
      if (rows.length > 0) {
        let firstMs = Number.POSITIVE_INFINITY;
        let lastMs = Number.NEGATIVE_INFINITY;
        for (const row of rows) {
          firstMs = Math.min(firstMs, row.tsMs);
          lastMs = Math.max(lastMs, row.tsMs);
        }
        if (atMs < firstMs)
          io.err(
            `warning: --at ${new Date(atMs).toISOString()} is before the data, which covers ${new Date(firstMs).toISOString()} – ${new Date(lastMs).toISOString()}: no data to evaluate`,
          );
      }
      io.out(options.json ? JSON.stringify(report, null, 2) : formatBudgetHuman(report));
      setExit(0);
    });
}
