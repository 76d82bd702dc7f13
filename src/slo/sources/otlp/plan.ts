/**
 * OTLP SLI plan (pure): which OpenSLO metric sources are fed by the OTLP receiver, how each one's
 * `spec` (metric name, attribute filters, histogram threshold) is read, and the selections a data
 * point is matched against. Also the spec checks `shinrai validate` reports (bad filters, and the
 * threshold snapped to a bucket boundary).
 */

import { storageKey } from '../../evaluation.js';
import type { Catalog, MetricSource, Objective, SliDefinition, SourceLocation } from '../../model.js';
import type { Diagnostic } from '../../spec/diagnostics.js';

/** DataSource / metricSource types the receiver feeds (compared case-insensitively). */
export const OTLP_TYPES = ['opentelemetry', 'otlp'] as const;

export function isOtlpType(type: string | undefined): boolean {
  return type !== undefined && (OTLP_TYPES as readonly string[]).includes(type.toLowerCase());
}

/**
 * Bucket boundaries assumed for a histogram SLI whose spec names none: the OpenTelemetry semantic
 * conventions' advice for `http.server.request.duration` (seconds).
 */
export const DEFAULT_BOUNDARIES: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
];

/** One attribute condition: exact value, any of a list, or a numeric range. */
export type AttributeFilter =
  | { readonly kind: 'equals'; readonly value: string | number | boolean }
  | { readonly kind: 'oneOf'; readonly values: readonly (string | number | boolean)[] }
  | {
      readonly kind: 'range';
      readonly gt?: number | undefined;
      readonly gte?: number | undefined;
      readonly lt?: number | undefined;
      readonly lte?: number | undefined;
    };

export type Filters = ReadonlyMap<string, AttributeFilter>;

/** A metric source's spec, read. */
export interface OtlpQuery {
  readonly metric: string;
  readonly resource: Filters;
  readonly attributes: Filters;
  /** Histograms: count only observations ≤ this boundary (already snapped). */
  readonly le?: number | undefined;
  readonly boundaries: readonly number[];
}

/**
 * What a matching data point adds to a stored stream:
 * - `count`: the sum's increase, or the histogram's count increase, to `role`;
 * - `le`: the histogram's increase of observations ≤ `le`, to `role`;
 * - `threshold`: a histogram feeding both good (≤ or > the boundary) and total.
 */
export type SelectionUse =
  | { readonly kind: 'count'; readonly role: 'good' | 'bad' | 'total' }
  | { readonly kind: 'le'; readonly role: 'good' | 'bad' | 'total'; readonly le: number }
  | { readonly kind: 'threshold'; readonly le: number; readonly goodAbove: boolean };

export interface Selection {
  readonly sli: string;
  readonly storageKey: string;
  readonly query: OtlpQuery;
  readonly use: SelectionUse;
}

export interface OtlpPlan {
  /** Selections by metric name. */
  readonly byMetric: ReadonlyMap<string, readonly Selection[]>;
  /** Names of the SLIs fed by OTLP (pushes to them are refused). */
  readonly slis: ReadonlySet<string>;
  /** Stored streams fed by OTLP whose numerator is `bad` (good = total − bad). */
  readonly badStreams: ReadonlySet<string>;
  /** Every stored stream fed by OTLP. */
  readonly streams: ReadonlySet<string>;
}

type Result<T> = { ok: true; value: T } | { ok: false; error: string };

const RANGE_KEYS = ['gt', 'gte', 'lt', 'lte'] as const;
const SPEC_KEYS = ['metric', 'resource', 'attributes', 'le', 'boundaries'];

function isScalar(v: unknown): v is string | number | boolean {
  return typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
}

function parseFilter(name: string, raw: unknown): Result<AttributeFilter> {
  if (isScalar(raw)) return { ok: true, value: { kind: 'equals', value: raw } };
  if (Array.isArray(raw)) {
    if (!raw.length || !raw.every(isScalar))
      return { ok: false, error: `${name}: a list holds one or more strings, numbers or booleans` };
    return { ok: true, value: { kind: 'oneOf', values: raw } };
  }
  if (raw !== null && typeof raw === 'object') {
    const entries = Object.entries(raw as Record<string, unknown>);
    const bad = entries.find(
      ([k, v]) =>
        !(RANGE_KEYS as readonly string[]).includes(k) || typeof v !== 'number' || !Number.isFinite(v),
    );
    if (bad || !entries.length)
      return {
        ok: false,
        error: `${name}: a range is a map of gt, gte, lt, lte to numbers${bad ? ` (not ${JSON.stringify(bad[0])})` : ''}`,
      };
    return { ok: true, value: { kind: 'range', ...(raw as Record<string, number>) } };
  }
  return { ok: false, error: `${name}: a filter is a value, a list of values, or a range such as {lt: 500}` };
}

function parseFilters(field: string, raw: unknown, errors: string[]): Filters {
  const out = new Map<string, AttributeFilter>();
  if (raw === undefined || raw === null) return out;
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    errors.push(`${field} must be a map of attribute name to filter`);
    return out;
  }
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    const parsed = parseFilter(`${field}.${key}`, value);
    if (parsed.ok) out.set(key, parsed.value);
    else errors.push(parsed.error);
  }
  return out;
}

/** The largest boundary ≤ value, or undefined. */
export function snapDown(value: number, boundaries: readonly number[]): number | undefined {
  let best: number | undefined;
  for (const b of boundaries) if (b <= value && (best === undefined || b > best)) best = b;
  return best;
}

/** The smallest boundary ≥ value, or undefined. */
export function snapUp(value: number, boundaries: readonly number[]): number | undefined {
  let best: number | undefined;
  for (const b of boundaries) if (b >= value && (best === undefined || b < best)) best = b;
  return best;
}

export interface QueryRead {
  readonly query?: OtlpQuery | undefined;
  readonly errors: readonly string[];
  readonly warnings: readonly string[];
}

/** Reads one metric source's `spec`; `le` is snapped down to a boundary (a warning says so). */
export function readQuery(spec: Readonly<Record<string, unknown>>): QueryRead {
  const errors: string[] = [];
  const warnings: string[] = [];
  for (const key of Object.keys(spec))
    if (!SPEC_KEYS.includes(key)) errors.push(`unknown field "${key}" (known: ${SPEC_KEYS.join(', ')})`);
  const metric = spec.metric;
  if (typeof metric !== 'string' || !metric.trim())
    errors.push('`metric` (the OpenTelemetry metric name, e.g. http.server.request.duration) is required');
  const resource = parseFilters('resource', spec.resource, errors);
  const attributes = parseFilters('attributes', spec.attributes, errors);
  let boundaries = DEFAULT_BOUNDARIES;
  if (spec.boundaries !== undefined) {
    const b = spec.boundaries;
    if (
      !Array.isArray(b) ||
      !b.length ||
      !b.every((x) => typeof x === 'number' && Number.isFinite(x)) ||
      !b.every((x, i) => i === 0 || (x as number) > (b[i - 1] as number))
    )
      errors.push('`boundaries` must be a non-empty, strictly increasing list of numbers');
    else boundaries = b as number[];
  }
  let le: number | undefined;
  if (spec.le !== undefined) {
    if (typeof spec.le !== 'number' || !Number.isFinite(spec.le)) errors.push('`le` must be a number');
    else {
      le = snapDown(spec.le, boundaries);
      if (le === undefined)
        errors.push(`\`le\` ${spec.le} is below the first bucket boundary ${boundaries[0]}`);
      else if (le !== spec.le)
        warnings.push(
          `le ${spec.le} is not a bucket boundary: observations ≤ ${le} (the boundary used) count, those in (${le}, ${spec.le}] do not`,
        );
    }
  }
  if (errors.length) return { errors, warnings };
  return {
    query: { metric: (metric as string).trim(), resource, attributes, le, boundaries },
    errors,
    warnings,
  };
}

/** The source's type, from itself or its DataSource. */
function sourceType(source: MetricSource, catalog: Catalog): string | undefined {
  return source.type ?? catalog.dataSources.find((d) => d.name === source.ref)?.type;
}

/** Every metric source of an SLI, with the role it plays. */
function sourcesOf(
  sli: SliDefinition,
): Array<{ role: 'good' | 'bad' | 'total' | 'threshold' | 'raw'; source: MetricSource }> {
  const i = sli.indicator;
  if (i.kind === 'threshold') return [{ role: 'threshold', source: i.metric }];
  if (i.kind === 'raw') return [{ role: 'raw', source: i.raw }];
  const out: Array<{ role: 'good' | 'bad' | 'total'; source: MetricSource }> = [];
  if (i.good) out.push({ role: 'good', source: i.good });
  if (i.bad) out.push({ role: 'bad', source: i.bad });
  out.push({ role: 'total', source: i.total });
  return out;
}

function located(
  where: SourceLocation,
  severity: 'error' | 'warning',
  rule: string,
  message: string,
  hint?: string,
): Diagnostic {
  return { file: where.file, line: where.line, column: where.column, severity, rule, message, hint };
}

export interface PlanResult {
  readonly plan: OtlpPlan;
  readonly diagnostics: readonly Diagnostic[];
}

/**
 * The OTLP plan of a catalog, and what `validate` says about it. An SLI whose OTLP sources can't
 * be read is left out of the plan (its points are then rejected), never the others.
 */
export function planCatalog(catalog: Catalog): PlanResult {
  const diagnostics: Diagnostic[] = [];
  const byMetric = new Map<string, Selection[]>();
  const slis = new Set<string>();
  const badStreams = new Set<string>();
  const streams = new Set<string>();
  const seen = new Set<string>();
  const reported = new Set<string>();
  const report = (d: Diagnostic) => {
    const key = `${d.file}:${d.line}:${d.column}:${d.rule}:${d.message}`;
    if (reported.has(key)) return;
    reported.add(key);
    diagnostics.push(d);
  };

  const visit = (sli: SliDefinition, objective: Objective) => {
    const sources = sourcesOf(sli);
    const otlp = sources.filter((s) => isOtlpType(sourceType(s.source, catalog)));
    if (!otlp.length) return;
    slis.add(sli.name);
    if (otlp.length !== sources.length) {
      report(
        located(
          sli.location,
          'error',
          'otlp/mixed-sources',
          `SLI "${sli.name}" mixes OpenTelemetry and other metric sources`,
          'the OTLP receiver feeds whole SLIs: make good/bad and total all OpenTelemetry',
        ),
      );
      return;
    }
    const key = storageKey(sli, objective);
    const selections: Selection[] = [];
    // Every source is read (so validate reports them all); an SLI with one unreadable is not planned.
    let unreadable = false;
    for (const { role, source } of otlp) {
      const read = readQuery(source.spec);
      for (const error of read.errors) report(located(source.location, 'error', 'otlp/spec', error));
      for (const warning of read.warnings)
        report(
          located(
            source.location,
            'warning',
            'otlp/threshold-snapped',
            warning,
            "set `le` to one of the histogram's bucket boundaries (`boundaries`) to silence this",
          ),
        );
      if (!read.query) {
        unreadable = true;
        continue;
      }
      const query = read.query;
      if (role === 'raw') {
        report(
          located(
            source.location,
            'error',
            'otlp/raw-ratio',
            'an OpenTelemetry SLI cannot be a precomputed (raw) ratio',
            'use good/total or bad/total, or a thresholdMetric on a histogram',
          ),
        );
        return;
      }
      if (role === 'threshold') {
        if (query.le !== undefined) {
          report(
            located(
              source.location,
              'error',
              'otlp/spec',
              "`le` is for ratio sources; a thresholdMetric takes its threshold from each objective's op and value",
            ),
          );
          return;
        }
        if (objective.op === undefined || objective.value === undefined) return; // resolve reports it
        const above = objective.op === 'gt' || objective.op === 'gte';
        const snapped = above
          ? snapUp(objective.value, query.boundaries)
          : snapDown(objective.value, query.boundaries);
        if (snapped === undefined) {
          report(
            located(
              objective.location,
              'error',
              'otlp/threshold',
              `${objective.op} ${objective.value} has no bucket boundary to snap to (boundaries ${query.boundaries[0]} … ${query.boundaries[query.boundaries.length - 1]})`,
              "set `boundaries` in the metric source to the histogram's bucket boundaries",
            ),
          );
          return;
        }
        if (snapped !== objective.value)
          report(
            located(
              objective.location,
              'warning',
              'otlp/threshold-snapped',
              `${objective.op} ${objective.value} is not a bucket boundary of ${query.metric}: the boundary ${snapped} is used (observations ${above ? `> ${snapped}` : `≤ ${snapped}`} are good)`,
              'set the objective value to a bucket boundary (`boundaries` in the metric source) to silence this',
            ),
          );
        selections.push({
          sli: sli.name,
          storageKey: key,
          query,
          use: { kind: 'threshold', le: snapped, goodAbove: above },
        });
        continue;
      }
      selections.push({
        sli: sli.name,
        storageKey: key,
        query,
        use: query.le === undefined ? { kind: 'count', role } : { kind: 'le', role, le: query.le },
      });
    }
    if (unreadable || seen.has(key)) return;
    seen.add(key);
    streams.add(key);
    if (sli.indicator.kind === 'ratio' && sli.indicator.bad) badStreams.add(key);
    for (const s of selections) {
      const list = byMetric.get(s.query.metric) ?? [];
      list.push(s);
      byMetric.set(s.query.metric, list);
    }
  };

  for (const slo of catalog.slos)
    for (const objective of slo.objectives) {
      const sli = objective.indicator ?? slo.indicator;
      if (sli) visit(sli, objective);
    }
  return { plan: { byMetric, slis, badStreams, streams }, diagnostics };
}

// Plans are cached per catalog object (a reload makes a new one).
const planCache = new WeakMap<Catalog, OtlpPlan>();

/** The catalog's plan, computed once per catalog. */
export function otlpPlan(catalog: Catalog): OtlpPlan {
  let plan = planCache.get(catalog);
  if (!plan) {
    plan = planCatalog(catalog).plan;
    planCache.set(catalog, plan);
  }
  return plan;
}

/** What `validate` reports for the OTLP sources of a catalog. */
export function checkOtlpSources(catalog: Catalog): Diagnostic[] {
  return [...planCatalog(catalog).diagnostics];
}
