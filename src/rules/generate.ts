/**
 * Sloth-compatible Prometheus rules: for every SLO the three groups Sloth generates (SLI error
 * ratios per window, metadata, multiwindow multi-burn-rate alerts) with Sloth's record names,
 * labels, annotations and expression text, so Sloth's dashboards and alert routes keep working.
 */

import type { Catalog } from '../slo/index.js';
import {
  type AlertWindowSet,
  burnRateFactor,
  distinctWindowsMs,
  goHours,
  promDuration,
  type WindowsSource,
  windowsForPeriod,
} from '../slo/index.js';
import { goFixed, goFloat, labelFilter } from './format.js';
import {
  type RuleAlert,
  type RuleSli,
  type RuleSlo,
  type RuleWarning,
  renderWindow,
  ruleSlos,
} from './rule-slos.js';

type StringMap = Readonly<Record<string, string>>;

export interface RecordingRule {
  readonly record: string;
  readonly expr: string;
  readonly labels: StringMap;
}

export interface AlertingRule {
  readonly alert: string;
  readonly expr: string;
  readonly labels: StringMap;
  readonly annotations: StringMap;
}

export type Rule = RecordingRule | AlertingRule;

export interface RuleGroup {
  readonly name: string;
  readonly rules: readonly Rule[];
}

export interface GenerateOptions {
  /** Period of SLOs whose spec cannot set one (Sloth specs), like Sloth's `--default-slo-period`. Default 30d. */
  readonly defaultPeriodMs?: number;
  /** Custom window catalogs (Sloth `AlertWindows`), chosen by period before the defaults. */
  readonly windows?: readonly AlertWindowSet[];
  readonly disableAlerts?: boolean;
  readonly disableRecordings?: boolean;
  /** Added to every recording rule, overriding spec labels of the same name (Sloth's `-l`). */
  readonly extraLabels?: StringMap;
  /** `sloth_version` of `sloth_slo_info`. */
  readonly version?: string;
}

export interface GeneratedSlo {
  readonly id: string;
  readonly periodMs: number;
  readonly windowsSource: WindowsSource;
}

export interface GeneratedRules {
  readonly groups: readonly RuleGroup[];
  /** The SLOs that produced rules, in output order. */
  readonly slos: readonly GeneratedSlo[];
  readonly warnings: readonly RuleWarning[];
}

/** Rules for every SLO of the catalog that Prometheus can evaluate; the others become warnings. */
export function generateRules(catalog: Catalog, options: GenerateOptions = {}): GeneratedRules {
  const { slos, warnings } = ruleSlos(catalog, { defaultPeriodMs: options.defaultPeriodMs });
  const groups: RuleGroup[] = [];
  const generated: GeneratedSlo[] = [];
  const allWarnings = [...warnings];
  for (const slo of slos) {
    const choice = windowsForPeriod(slo.periodMs, options.windows);
    if (!choice.ok) {
      allWarnings.push({ sloId: slo.id, location: slo.location, message: `skipped: ${choice.error}` });
      continue;
    }
    groups.push(...sloRuleGroups(slo, choice.windows, options));
    generated.push({ id: slo.id, periodMs: slo.periodMs, windowsSource: choice.source });
  }
  return { groups, slos: generated, warnings: allWarnings };
}

/** Sloth's three groups for one SLO, leaving out empty ones as Sloth does. */
export function sloRuleGroups(
  slo: RuleSlo,
  windows: AlertWindowSet,
  options: GenerateOptions = {},
): RuleGroup[] {
  const labels = { ...slo.labels, ...options.extraLabels, ...idLabels(slo) };
  const groups: RuleGroup[] = [];
  if (!options.disableRecordings) {
    groups.push({
      name: `sloth-slo-sli-recordings-${slo.id}`,
      rules: sliRecordingRules(slo, windows, labels),
    });
    groups.push({
      name: `sloth-slo-meta-recordings-${slo.id}`,
      rules: metadataRules(slo, windows, labels, options.version ?? 'shinrai'),
    });
  }
  if (!options.disableAlerts) {
    const rules = alertRules(slo, windows);
    if (rules.length > 0) groups.push({ name: `sloth-slo-alerts-${slo.id}`, rules });
  }
  return groups;
}

/** `sloth_id`, `sloth_service`, `sloth_slo`: what every rule of an SLO is selected by. */
export function idLabels(slo: RuleSlo): Record<string, string> {
  return { sloth_id: slo.id, sloth_service: slo.service, sloth_slo: slo.name };
}

/** `slo:sli_error:ratio_rate5m`, `…_rate30d`, `…_rate4w` (28 days, as Prometheus prints it). */
export function sliErrorMetric(windowMs: number): string {
  return `slo:sli_error:ratio_rate${promDuration(windowMs)}`;
}

/** The error ratio over one window, from the SLI's queries. */
export function sliErrorExpr(sli: RuleSli, windowMs: number): string {
  const text =
    sli.kind === 'events' ? `(${sli.errorQuery})\n/\n(${sli.totalQuery})\n` : `(${sli.errorRatioQuery})`;
  return renderWindow(text, windowMs);
}

/**
 * The period's error ratio, averaged from the page-quick short window's recorded ratios instead
 * of querying the raw series over the whole period (Sloth's optimisation: far cheaper to evaluate).
 */
export function periodSliExpr(slo: RuleSlo, shortWindowMs: number): string {
  const metric = `${sliErrorMetric(shortWindowMs)}${labelFilter(idLabels(slo))}`;
  const range = promDuration(slo.periodMs);
  return `sum_over_time(${metric}[${range}])\n/ ignoring (sloth_window)\ncount_over_time(${metric}[${range}])\n`;
}

function sliRecordingRules(slo: RuleSlo, windows: AlertWindowSet, labels: StringMap): RecordingRule[] {
  const alertWindows = distinctWindowsMs(windows).filter((w) => w !== slo.periodMs);
  const rule = (windowMs: number, expr: string): RecordingRule => ({
    record: sliErrorMetric(windowMs),
    expr,
    labels: { ...labels, sloth_window: promDuration(windowMs) },
  });
  return [
    ...alertWindows.map((w) => rule(w, sliErrorExpr(slo.sli, w))),
    rule(slo.periodMs, periodSliExpr(slo, windows.page.quick.shortWindowMs)),
  ];
}

function burnRateExpr(slo: RuleSlo, sliMetric: string): string {
  const filter = labelFilter(idLabels(slo));
  return `${sliMetric}${filter}\n/ on(sloth_id, sloth_slo, sloth_service) group_left\nslo:error_budget:ratio${filter}\n`;
}

function metadataRules(
  slo: RuleSlo,
  windows: AlertWindowSet,
  labels: StringMap,
  version: string,
): RecordingRule[] {
  const objectiveRatio = goFloat(slo.objectivePercent / 100);
  const filter = labelFilter(idLabels(slo));
  return [
    { record: 'slo:objective:ratio', expr: `vector(${objectiveRatio})`, labels },
    { record: 'slo:error_budget:ratio', expr: `vector(1-${objectiveRatio})`, labels },
    { record: 'slo:time_period:days', expr: `vector(${goFloat(goHours(slo.periodMs) / 24)})`, labels },
    {
      record: 'slo:current_burn_rate:ratio',
      expr: burnRateExpr(slo, sliErrorMetric(windows.page.quick.shortWindowMs)),
      labels,
    },
    { record: 'slo:period_burn_rate:ratio', expr: burnRateExpr(slo, sliErrorMetric(slo.periodMs)), labels },
    {
      record: 'slo:period_error_budget_remaining:ratio',
      expr: `1 - slo:period_burn_rate:ratio${filter}`,
      labels,
    },
    {
      record: 'sloth_slo_info',
      expr: 'vector(1)',
      labels: {
        ...labels,
        sloth_version: version,
        sloth_mode: slo.mode,
        sloth_spec: slo.spec,
        sloth_objective: goFixed(slo.objectivePercent),
      },
    },
  ];
}

/** One window pair of a multiwindow alert: both windows must burn faster than `factor`. */
export interface BurnCondition {
  readonly shortWindowMs: number;
  readonly longWindowMs: number;
  readonly factor: number;
}

/**
 * `(quick short AND quick long) OR (slow short AND slow long)`, each side an error ratio above
 * factor × error budget; `max … without (sloth_window)` lets the two windows' series match.
 */
export function multiBurnRateExpr(
  slo: RuleSlo,
  quick: BurnCondition,
  slow: BurnCondition,
  errorBudgetRatio: number,
): string {
  const filter = labelFilter(idLabels(slo));
  const budget = goFloat(errorBudgetRatio);
  const above = (windowMs: number, factor: number) =>
    `    max(${sliErrorMetric(windowMs)}${filter} > (${goFloat(factor)} * ${budget})) without (sloth_window)`;
  const pair = (c: BurnCondition) =>
    `(\n${above(c.shortWindowMs, c.factor)}\n    and\n${above(c.longWindowMs, c.factor)}\n)`;
  return `${pair(quick)}\nor\n${pair(slow)}\n`;
}

function alertRules(slo: RuleSlo, windows: AlertWindowSet): AlertingRule[] {
  // Sloth's error budget for alerts is computed from the percentage: (100 − 99.9) / 100.
  const errorBudgetRatio = (100 - slo.objectivePercent) / 100;
  const condition = (w: AlertWindowSet['page']['quick']): BurnCondition => ({
    shortWindowMs: w.shortWindowMs,
    longWindowMs: w.longWindowMs,
    factor: burnRateFactor(windows.periodMs, w),
  });
  const rule = (
    severity: 'page' | 'ticket',
    alert: RuleAlert,
    tier: AlertWindowSet['page'],
  ): AlertingRule => ({
    alert: alert.name,
    expr: multiBurnRateExpr(slo, condition(tier.quick), condition(tier.slow), errorBudgetRatio),
    labels: { sloth_severity: severity, ...alert.labels },
    annotations: {
      title: `(${severity}) {{$labels.sloth_service}} {{$labels.sloth_slo}} SLO error budget burn rate is too fast.`,
      summary: '{{$labels.sloth_service}} {{$labels.sloth_slo}} SLO error budget burn rate is over expected.',
      ...alert.annotations,
    },
  });
  const rules: AlertingRule[] = [];
  if (slo.page) rules.push(rule('page', slo.page, windows.page));
  if (slo.ticket) rules.push(rule('ticket', slo.ticket, windows.ticket));
  return rules;
}
