/**
 * `shinrai backtest <specs> --data <file> [--policy <file>] [--compare <file>]`: replays a history
 * of SLI counts through an alert policy and reports what would have fired, pages a week, and
 * which significant events were caught and how fast.
 */
import type { Command } from 'commander';
import { type BacktestReport, backtestReport, periodOf, targetSeries } from '../../alerting/index.js';
import { DEFAULT_MIN_EVENTS } from '../../platform/config.js';
import type { SloDefinition } from '../../slo/index.js';
import {
  type AlertRule,
  alertRulesFor,
  evaluationTargets,
  formatDiagnostic,
  loadSpecs,
  minuteSeries,
  rulesFromPolicies,
  windowsFromDefinition,
} from '../../slo/index.js';
import { loadValidCatalog, readCountRows } from '../common.js';
import { table } from '../format.js';
import { CliError, type CliIo } from '../io.js';

interface BacktestOptions {
  data: string;
  policy?: string;
  compare?: string;
  minShare: string;
  minEvents: string;
  format?: string;
  json?: boolean;
}

/** A policy: a name and the rules it gives an SLO (or why it gives none). */
interface Policy {
  readonly name: string;
  rulesFor(slo: SloDefinition): { ok: true; rules: readonly AlertRule[] } | { ok: false; error: string };
}

const specPolicy: Policy = {
  name: 'specs',
  rulesFor: (slo) => alertRulesFor(slo),
};

/** A policy file: OpenSLO AlertPolicy objects (for every SLO), or Sloth AlertWindows catalogs. */
async function loadPolicy(path: string, io: CliIo): Promise<Policy> {
  const loaded = await loadSpecs(path, io.cwd);
  const error = loaded.diagnostics.find((d) => d.severity === 'error');
  if (error) throw new CliError(formatDiagnostic(error));
  const policies = loaded.catalog.alertPolicies;
  if (policies.length) {
    const rules = rulesFromPolicies(policies);
    return { name: path, rulesFor: () => ({ ok: true, rules }) };
  }
  if (loaded.alertWindows.length) {
    const windows = loaded.alertWindows.map(windowsFromDefinition);
    return { name: path, rulesFor: (slo) => alertRulesFor({ ...slo, alertPolicies: [] }, windows) };
  }
  throw new CliError(`${path}: no AlertPolicy (OpenSLO) or AlertWindows (Sloth) objects to test`);
}

export function registerBacktest(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('backtest')
    .description(
      'replay SLI history through an alert policy: what would have fired, and what it would have caught',
    )
    .argument('<specs>', 'a spec file or directory')
    .requiredOption('--data <file>', 'SLI counts: NDJSON or CSV lines of {sli, ts, good|bad, total}')
    .option(
      '--policy <file>',
      'test this policy instead of the specs’ own (AlertPolicy or AlertWindows objects)',
    )
    .option('--compare <file>', 'a second policy, shown side by side')
    .option('--min-share <percent>', 'smallest share of a period budget that makes an event significant', '2')
    .option(
      '--min-events <n>',
      'low-traffic guard: a condition needs this many events in its long window (0: off)',
      String(DEFAULT_MIN_EVENTS),
    )
    .option('--format <format>', 'data format: ndjson or csv (default: from the file)')
    .option('--json', 'print the JSON report')
    .action(async (specs: string, options: BacktestOptions) => {
      const minShare = Number(options.minShare);
      if (!(minShare > 0 && minShare <= 100))
        throw new CliError('--min-share must be a percentage in (0, 100]', 2);
      const minEvents = options.minEvents === undefined ? undefined : Number(options.minEvents);
      if (minEvents !== undefined && !(minEvents >= 0))
        throw new CliError('--min-events must be a number ≥ 0', 2);
      const catalog = await loadValidCatalog(specs, io);
      const rows = await readCountRows(options.data, options.format);
      const policies = [options.policy ? await loadPolicy(options.policy, io) : specPolicy];
      if (options.compare) policies.push(await loadPolicy(options.compare, io));

      const series = minuteSeries(rows);
      const results: Array<{
        id: string;
        policies: Array<{ policy: string; report?: BacktestReport; error?: string }>;
      }> = [];
      for (const target of evaluationTargets(catalog)) {
        const history = targetSeries(target, (part) => {
          const key = part.dataKeys.find((k) => series.has(k));
          return key === undefined
            ? undefined
            : series.get(key)!.map((m) => ({ minuteMs: m.ts, good: m.good, total: m.total }));
        });
        if (!history) continue;
        const periodMs = periodOf(target);
        results.push({
          id: target.id,
          policies: policies.map((policy) => {
            const rules = policy.rulesFor(target.slo);
            if (!rules.ok) return { policy: policy.name, error: rules.error };
            const report = backtestReport(
              { ...history, rules: rules.rules, minEvents },
              { periodMs, minBudgetShare: minShare / 100 },
            );
            return { policy: policy.name, report };
          }),
        });
      }
      if (results.length === 0) throw new CliError(`no SLO of ${specs} has data in ${options.data}`);
      io.out(options.json ? JSON.stringify({ slos: results }, null, 2) : human(results));
      setExit(0);
    });
}

function human(
  results: ReadonlyArray<{
    id: string;
    policies: Array<{ policy: string; report?: BacktestReport; error?: string }>;
  }>,
): string {
  const rows = results.flatMap(({ id, policies }) =>
    policies.map(({ policy, report, error }) =>
      report
        ? [
            id,
            policy,
            report.pagesPerWeek.toFixed(2),
            report.ticketsPerWeek.toFixed(2),
            `${report.detectedEvents}/${report.events.length}`,
            report.medianDetectionMinutes === null ? '—' : `${report.medianDetectionMinutes} min`,
          ]
        : [id, policy, '—', '—', '—', `not tested: ${error}`],
    ),
  );
  const missed = results.flatMap(({ id, policies }) =>
    policies.flatMap(({ policy, report }) =>
      (report?.events ?? [])
        .filter((e) => !e.detectedBy)
        .map(
          (e) =>
            `  missed: ${id} (${policy}) ${new Date(e.startMs).toISOString()} – ${new Date(e.endMs).toISOString()}, ${(e.budgetShare * 100).toFixed(1)}% of the budget`,
        ),
    ),
  );
  return [
    table(['SLO', 'policy', 'pages/week', 'tickets/week', 'events caught', 'median time to alert'], rows),
    ...(missed.length ? ['', 'Significant events no alert caught:', ...missed] : []),
  ].join('\n');
}
