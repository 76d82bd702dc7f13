import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, resolve } from 'node:path';
import type { Command } from 'commander';
import {
  CLASSIC_LABEL_NAME,
  DEFAULT_PERIOD_MS,
  generateRules,
  kubernetesName,
  RESERVED_LABELS,
  RULES_FORMATS,
  type RulesFormat,
  renderPrometheusRule,
  renderRuleFile,
} from '../../rules/index.js';
import {
  type AlertWindowSet,
  formatDiagnostic,
  loadSpecs,
  parsePrometheusDuration,
  promDuration,
  windowsForPeriod,
  windowsFromDefinition,
} from '../../slo/index.js';
import { loadValidCatalog } from '../common.js';
import { CliError, type CliIo } from '../io.js';

interface GenerateFlags {
  out?: string;
  format: string;
  period?: string;
  windows?: string;
  disableAlerts?: boolean;
  disableRecordings?: boolean;
  extraLabel?: Record<string, string>;
  name?: string;
  namespace?: string;
}

function collectLabel(text: string, previous: Record<string, string> | undefined): Record<string, string> {
  const at = text.indexOf('=');
  const name = at < 0 ? text : text.slice(0, at);
  const value = at < 0 ? '' : text.slice(at + 1);
  if (at < 0 || value === '')
    throw new CliError(`-l "${text}" is not key=value with a value (e.g. -l env=prod)`, 2);
  if (!CLASSIC_LABEL_NAME.test(name))
    throw new CliError(`-l "${name}" is not a Prometheus label name (letters, digits and "_")`, 2);
  if (RESERVED_LABELS.has(name)) throw new CliError(`-l "${name}": the rules set this label themselves`, 2);
  return { ...previous, [name]: value };
}

async function loadWindows(path: string, io: CliIo): Promise<AlertWindowSet[]> {
  const result = await loadSpecs(path, io.cwd);
  const error = result.diagnostics.find((d) => d.severity === 'error');
  if (error) throw new CliError(`--windows: ${formatDiagnostic(error)}`);
  if (result.alertWindows.length === 0)
    throw new CliError(`--windows ${path} holds no AlertWindows spec (apiVersion sloth.slok.dev/v1)`);
  const byPeriod = new Map<number, string>();
  for (const w of result.alertWindows) {
    const first = byPeriod.get(w.periodMs);
    if (first !== undefined)
      throw new CliError(
        `--windows: two AlertWindows for the period ${promDuration(w.periodMs)} (${first} and ${w.location.file}:${w.location.line})`,
      );
    byPeriod.set(w.periodMs, `${w.location.file}:${w.location.line}`);
  }
  return result.alertWindows.map(windowsFromDefinition);
}

function parsePeriod(text: string | undefined, windows: readonly AlertWindowSet[]): number {
  // One custom catalog and no --period: the catalog says which period the user means.
  if (text === undefined) return windows.length === 1 ? windows[0]!.periodMs : DEFAULT_PERIOD_MS;
  const parsed = parsePrometheusDuration(text);
  if (!parsed.ok) throw new CliError(`--period ${parsed.error}`, 2);
  if (parsed.ms === 0) throw new CliError('--period must be longer than zero', 2);
  const choice = windowsForPeriod(parsed.ms, windows);
  if (!choice.ok) throw new CliError(`--period ${text}: ${choice.error}`, 2);
  return parsed.ms;
}

export function registerRules(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const rules = program
    .command('rules')
    .description('generate Sloth-compatible Prometheus recording and alerting rules from SLO specs');

  rules
    .command('generate')
    .description('write the SLI, metadata and burn-rate alert rule groups for every Prometheus-backed SLO')
    .argument('<specs>', 'a spec file or directory (Sloth, OpenSLO v1 or v1alpha)')
    .option('-o, --out <file>', 'write the rules to this file instead of stdout')
    .option('--format <format>', `${RULES_FORMATS.join(' or ')}`, 'prometheus')
    .option('--period <duration>', 'SLO period of Sloth specs (they cannot set one), e.g. 28d (default: 30d)')
    .option(
      '--windows <file>',
      'Sloth AlertWindows spec (file or directory) with burn-rate windows per period',
    )
    .option('--disable-alerts', 'leave out the alert rules')
    .option('--disable-recordings', 'leave out the SLI and metadata recording rules')
    .option('-l, --extra-label <key=value>', 'add a label to every recording rule (repeatable)', collectLabel)
    .option('--name <name>', 'prometheus-operator: name of the PrometheusRule (default: from <specs>)')
    .option('--namespace <namespace>', 'prometheus-operator: namespace of the PrometheusRule')
    .addHelpText(
      'after',
      `
Rule names, labels and expressions are Sloth's (v0.16), so Sloth dashboards and alert routes keep
working: slo:sli_error:ratio_rate<window>, slo:objective:ratio, slo:error_budget:ratio,
slo:time_period:days, slo:current_burn_rate:ratio, slo:period_burn_rate:ratio,
slo:period_error_budget_remaining:ratio, sloth_slo_info; labels sloth_id, sloth_service, sloth_slo,
sloth_window, sloth_severity.

Windows: 30d and 28d use Sloth's defaults (page 2%/5m/1h and 5%/30m/6h, ticket 10%/2h/1d and
10%/6h/3d); other periods use the same windows with factor = budget% x period / long window;
--windows overrides both for its periods. OpenSLO SLOs use their own time window.
SLOs whose SLI is not PromQL with {{.window}} are skipped with a warning.

Examples:
  shinrai rules generate slos/ -o rules/slos.yml && promtool check rules rules/slos.yml
  shinrai rules generate slos/ --period 28d -l env=prod
  shinrai rules generate slo.yml --windows windows/7d.yaml
  shinrai rules generate slos/ --format prometheus-operator --namespace monitoring

Exit status: 0 when rules were written, 1 on spec errors or when no SLO produced rules, 2 on usage errors.
See docs/rules.md.`,
    )
    .action(async (specs: string, flags: GenerateFlags) => {
      if (!(RULES_FORMATS as readonly string[]).includes(flags.format))
        throw new CliError(`--format must be ${RULES_FORMATS.join(' or ')}, not "${flags.format}"`, 2);
      if (flags.disableAlerts && flags.disableRecordings)
        throw new CliError('--disable-alerts with --disable-recordings leaves nothing to generate', 2);
      const windows = flags.windows === undefined ? [] : await loadWindows(flags.windows, io);
      const defaultPeriodMs = parsePeriod(flags.period, windows);
      const catalog = await loadValidCatalog(specs, io);

      const result = generateRules(catalog, {
        defaultPeriodMs,
        windows,
        disableAlerts: flags.disableAlerts,
        disableRecordings: flags.disableRecordings,
        extraLabels: flags.extraLabel,
        version: `shinrai-${program.version()}`,
      });
      for (const w of result.warnings)
        io.err(
          `warning: ${w.location.file}:${w.location.line}:${w.location.column}  ${w.sloId}: ${w.message}`,
        );
      if (result.groups.length === 0)
        throw new CliError(
          `no SLO in ${specs} can be turned into Prometheus rules (${catalog.slos.length} skipped; see the warnings)`,
        );

      const format = flags.format as RulesFormat;
      const text =
        format === 'prometheus'
          ? renderRuleFile(result.groups)
          : renderPrometheusRule(result.groups, {
              name: flags.name ?? kubernetesName(basename(specs, extname(specs))),
              namespace: flags.namespace,
            });
      if (flags.out === undefined) {
        io.out(text);
      } else {
        const path = resolve(io.cwd, flags.out);
        try {
          // `-o rules/slos.yml` in a fresh checkout: make the folder, as the docs' example expects.
          await mkdir(dirname(path), { recursive: true });
          await writeFile(path, text);
        } catch (error) {
          throw new CliError(
            `cannot write ${flags.out}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
          );
        }
        const n = result.slos.length;
        io.out(`✓ ${n} SLO${n === 1 ? '' : 's'}, ${result.groups.length} rule groups → ${flags.out}`);
      }
      setExit(0);
    });
}
