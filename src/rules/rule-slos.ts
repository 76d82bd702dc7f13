/**
 * From Shinrai's SLO model to what Sloth generates rules from: one SLO per objective with a
 * PromQL error-ratio SLI, an objective in percent, a period, labels and page/ticket alerts.
 * SLOs that Prometheus cannot evaluate are left out with a warning, never an error.
 */

import { DAY_MS } from '../platform/dates.js';
import type {
  BurnRateAlerting,
  Catalog,
  Indicator,
  MetricSource,
  Objective,
  SloDefinition,
  SourceLocation,
} from '../slo/index.js';
import { fixedDurationMs, formatDuration, nominalDurationMs, promDuration } from '../slo/index.js';

type StringMap = Readonly<Record<string, string>>;

/** Sloth's two SLI kinds: error/total queries, or one error-ratio query. Both use `{{.window}}`. */
export type RuleSli =
  | { readonly kind: 'events'; readonly errorQuery: string; readonly totalQuery: string }
  | { readonly kind: 'raw'; readonly errorRatioQuery: string };

export interface RuleAlert {
  readonly name: string;
  readonly labels: StringMap;
  readonly annotations: StringMap;
}

/** One SLO as Sloth's generator sees it. */
export interface RuleSlo {
  /** `sloth_id`: the SLO id (with the objective key when an SLO has several objectives). */
  readonly id: string;
  /** `sloth_slo`. */
  readonly name: string;
  /** `sloth_service`. */
  readonly service: string;
  /** As Sloth holds it: a percentage, 99.9 for a target of 0.999. */
  readonly objectivePercent: number;
  readonly periodMs: number;
  readonly sli: RuleSli;
  readonly labels: StringMap;
  /** Undefined when the tier is disabled. */
  readonly page?: RuleAlert | undefined;
  readonly ticket?: RuleAlert | undefined;
  /** `sloth_mode` and `sloth_spec` of `sloth_slo_info`: how Sloth would have been run on this input. */
  readonly mode: string;
  readonly spec: string;
  readonly location: SourceLocation;
}

/** Why an SLO (or part of it) did not become rules as written. */
export interface RuleWarning {
  readonly sloId: string;
  readonly location: SourceLocation;
  readonly message: string;
}

/** Labels the rules set themselves; spec labels must not override them or the filters break. */
export const RESERVED_LABELS: ReadonlySet<string> = new Set([
  'sloth_id',
  'sloth_service',
  'sloth_slo',
  'sloth_window',
  'sloth_severity',
  'sloth_version',
  'sloth_mode',
  'sloth_spec',
  'sloth_objective',
]);

/** Label names every Prometheus-compatible store accepts. */
export const CLASSIC_LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

const WINDOW_TEMPLATE = /{{ *\.window *}}/;

/** Data-source types whose queries are PromQL (compared case-insensitively). */
const PROMQL_SOURCES = new Set(['prometheus', 'thanos', 'mimir', 'cortex', 'victoriametrics']);

/** Sloth's default SLO period, used for specs that cannot set one (`--default-slo-period`). */
export const DEFAULT_PERIOD_MS = 30 * DAY_MS;

export interface RuleSlosOptions {
  /** Period of SLOs whose format has none (Sloth specs). Default 30 days. */
  readonly defaultPeriodMs?: number;
}

/** Every SLO of the catalog that Prometheus can evaluate, in catalog order. */
export function ruleSlos(
  catalog: Catalog,
  options: RuleSlosOptions = {},
): { slos: RuleSlo[]; warnings: RuleWarning[] } {
  const slos: RuleSlo[] = [];
  const warnings: RuleWarning[] = [];
  const seen = new Set<string>();
  for (const slo of catalog.slos) {
    const warn = (message: string, sloId = slo.id) =>
      warnings.push({ sloId, location: slo.location, message });
    const indicator = slo.indicator?.indicator;
    if (slo.composite || !indicator) {
      warn('skipped: a composite SLO has no single PromQL SLI; Shinrai evaluates it itself');
      continue;
    }
    const sli = promqlSli(indicator, catalog);
    if (!sli.ok) {
      warn(`skipped: ${sli.reason}`);
      continue;
    }
    const periodMs = sloPeriodMs(slo, options.defaultPeriodMs ?? DEFAULT_PERIOD_MS, warn);
    if (slo.budgetingMethod !== 'Occurrences')
      warn(
        `${slo.budgetingMethod} budgeting is evaluated by Shinrai only; the rules measure the ratio of bad events (Occurrences)`,
      );
    const labels = specLabels(slo, warn);
    const several = slo.objectives.length > 1;
    for (const objective of slo.objectives) {
      const id = several ? `${slo.id}-${objective.key}` : slo.id;
      if (seen.has(id)) {
        warn(`skipped: another SLO already generates rules with sloth_id "${id}"`, id);
        continue;
      }
      seen.add(id);
      const alerts = alertTiers(slo, id);
      slos.push({
        id,
        name: several ? `${slo.name}-${objective.key}` : slo.name,
        service: slo.service,
        objectivePercent: objectivePercent(objective),
        periodMs,
        sli: sli.sli,
        labels,
        page: alerts.page,
        ticket: alerts.ticket,
        ...infoOf(slo),
        location: objective.location,
      });
    }
  }
  return { slos, warnings };
}

/** Target as Sloth's percentage, without binary noise: 0.999 → 99.9 (Sloth then divides by 100 in float). */
export function objectivePercent(objective: Objective): number {
  return Number((objective.target * 100).toPrecision(15));
}

function sloPeriodMs(slo: SloDefinition, defaultPeriodMs: number, warn: (message: string) => void): number {
  if (slo.format === 'sloth/prometheus/v1' || slo.format === 'sloth/kubernetes') return defaultPeriodMs;
  const window = slo.window;
  const fixedMs = fixedDurationMs(window.duration);
  const periodMs = fixedMs ?? nominalDurationMs(window.duration);
  if (window.kind === 'calendar')
    warn(
      `the calendar window ${formatDuration(window.duration)} becomes a rolling ${promDuration(periodMs)} period in Prometheus rules; Shinrai's own budgets follow the calendar`,
    );
  return periodMs;
}

type SliResult = { ok: true; sli: RuleSli } | { ok: false; reason: string };

function promqlSli(indicator: Indicator, catalog: Catalog): SliResult {
  if (indicator.kind === 'threshold')
    return {
      ok: false,
      reason: 'a threshold SLI compares raw values per objective; only ratio SLIs become Sloth rules',
    };
  if (indicator.kind === 'raw') {
    const raw = promqlQuery(indicator.raw, catalog);
    if (!raw.ok) return raw;
    return {
      ok: true,
      sli: {
        kind: 'raw',
        errorRatioQuery: indicator.rawType === 'failure' ? raw.query : `1 - (${raw.query})`,
      },
    };
  }
  const total = promqlQuery(indicator.total, catalog);
  if (!total.ok) return total;
  if (indicator.bad) {
    const bad = promqlQuery(indicator.bad, catalog);
    if (!bad.ok) return bad;
    return { ok: true, sli: { kind: 'events', errorQuery: bad.query, totalQuery: total.query } };
  }
  if (!indicator.good) return { ok: false, reason: 'the ratio SLI has neither good nor bad counts' };
  const good = promqlQuery(indicator.good, catalog);
  if (!good.ok) return good;
  // The shape Sloth gives OpenSLO good/total SLIs: error ratio = 1 − good/total.
  return {
    ok: true,
    sli: {
      kind: 'raw',
      errorRatioQuery: `\n  1 - (\n    (\n      ${good.query}\n    )\n    /\n    (\n      ${total.query}\n    )\n  )\n`,
    },
  };
}

function promqlQuery(
  source: MetricSource,
  catalog: Catalog,
): { ok: true; query: string } | { ok: false; reason: string } {
  const type = source.type ?? catalog.dataSources.find((d) => d.name === source.ref)?.type;
  if (!type || !PROMQL_SOURCES.has(type.toLowerCase()))
    return {
      ok: false,
      reason: `its metric source ${type ? `type "${type}"` : 'has no type and'} is not Prometheus-compatible (prometheus, thanos, mimir, cortex, victoriametrics)`,
    };
  const query = source.spec.query;
  if (typeof query !== 'string' || !query.trim())
    return { ok: false, reason: 'its Prometheus metric source has no `query`' };
  if (!WINDOW_TEMPLATE.test(query))
    return {
      ok: false,
      reason:
        'its query does not use {{.window}}, so every rule window would record the same value; write the range as [{{.window}}], e.g. sum(rate(http_requests_total[{{.window}}]))',
    };
  return { ok: true, query };
}

/**
 * Spec labels as single Prometheus label values. Sloth labels are kept as written; OpenSLO
 * lists are joined with "," and names Prometheus 2 rejects are dropped.
 */
function specLabels(slo: SloDefinition, warn: (message: string) => void): Record<string, string> {
  const sloth = slo.format === 'sloth/prometheus/v1' || slo.format === 'sloth/kubernetes';
  const labels: Record<string, string> = {};
  for (const [name, values] of Object.entries(slo.labels)) {
    if (RESERVED_LABELS.has(name)) {
      warn(`label "${name}" is dropped: the rules set it themselves`);
      continue;
    }
    if (!sloth && !CLASSIC_LABEL_NAME.test(name)) {
      warn(`label "${name}" is dropped: Prometheus label names use letters, digits and "_" only`);
      continue;
    }
    const value = values.join(',');
    if (value !== '') labels[name] = value;
  }
  return labels;
}

/** Page and ticket alerts; specs without Sloth's `alerting` block get both, named after the SLO. */
function alertTiers(slo: SloDefinition, id: string): { page?: RuleAlert; ticket?: RuleAlert } {
  const alerting: BurnRateAlerting = slo.alerting ?? {
    labels: {},
    annotations: slo.shinrai.runbookUrl ? { runbook_url: slo.shinrai.runbookUrl } : {},
    page: { disabled: false, labels: {}, annotations: {} },
    ticket: { disabled: false, labels: {}, annotations: {} },
  };
  const name = alerting.name ?? defaultAlertName(id);
  const tier = (t: BurnRateAlerting['page']): RuleAlert | undefined =>
    t.disabled
      ? undefined
      : {
          name,
          labels: { ...alerting.labels, ...t.labels },
          annotations: { ...alerting.annotations, ...t.annotations },
        };
  return { page: tier(alerting.page), ticket: tier(alerting.ticket) };
}

/** `checkout-availability` → `CheckoutAvailabilityErrorBudgetBurn`. */
export function defaultAlertName(id: string): string {
  const words = id.split(/[^A-Za-z0-9]+/).filter(Boolean);
  const pascal = words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
  return `${/^[0-9]/.test(pascal) ? 'Slo' : ''}${pascal}ErrorBudgetBurn`;
}

function infoOf(slo: SloDefinition): { mode: string; spec: string } {
  switch (slo.format) {
    case 'sloth/prometheus/v1':
      return { mode: 'cli-gen-prom', spec: 'prometheus/v1' };
    case 'sloth/kubernetes':
      return { mode: 'cli-gen-k8s', spec: 'sloth.slok.dev/v1' };
    default:
      return { mode: 'cli-gen-openslo', spec: slo.format };
  }
}

/** Replaces Sloth's `{{.window}}` template variable with a Prometheus duration. */
export function renderWindow(query: string, windowMs: number): string {
  return query.replace(/{{ *\.window *}}/g, promDuration(windowMs));
}
