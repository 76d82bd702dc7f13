/**
 * Which SLIs Shinrai pulls, from which data source, with which per-minute queries (pure). An SLI
 * is pulled when all its metric sources are of one type a registered source reads (registry.ts),
 * through a `metricSourceRef` to a DataSource of that type or, without a ref (Sloth specs), from the
 * default Prometheus of the configuration. See docs/sources.md.
 */

import { type ConnectionSpec, parseConnectionDetails } from '../../platform/connections.js';
import type { ObjectiveSpec } from '../budget/types.js';
import { evaluationTargets } from '../evaluation.js';
import type { Catalog, MetricSource, SliDefinition, SourceLocation } from '../model.js';
import { routeSli, type SliStream } from '../sli-routing.js';
import { isUploaded } from '../spec/origin.js';
import type { SliSource } from './port.js';
import { sourceForType } from './registry.js';

/** Source id of metric sources without a `metricSourceRef`: `prometheus.url` in the configuration. */
export const DEFAULT_SOURCE = 'default';
/** The only kind with a default source (Sloth specs name no DataSource). */
const DEFAULT_SOURCE_KIND = 'prometheus';

export type PulledQueries =
  | { readonly kind: 'ratio'; readonly good?: string; readonly bad?: string; readonly total: string }
  | { readonly kind: 'raw'; readonly rawType: 'success' | 'failure'; readonly raw: string }
  | { readonly kind: 'threshold'; readonly metric: string };

export type QueryRole = 'good' | 'bad' | 'total' | 'raw' | 'metric';

/** The queries of an SLI by role, in a fixed order. */
export function queriesByRole(queries: PulledQueries): Array<readonly [QueryRole, string]> {
  const byRole = queries as Partial<Record<QueryRole, string>>;
  return (['good', 'bad', 'total', 'raw', 'metric'] as const).flatMap((role) =>
    byRole[role] === undefined ? [] : [[role, byRole[role]] as const],
  );
}

export interface PulledSli {
  /** The SLI's name: the unit that is queried (one cursor each). */
  readonly sli: string;
  /** A DataSource name, or DEFAULT_SOURCE. */
  readonly source: string;
  /** The SliSource that reads it (`prometheus`, `loki`…). */
  readonly kind: string;
  readonly queries: PulledQueries;
  /** The stored streams the results fill (one for ratio and raw SLIs, one per threshold otherwise). */
  readonly streams: readonly SliStream[];
  /** Objectives reading this SLI, for how far back the first load must go. */
  readonly specs: readonly ObjectiveSpec[];
  /** Where its (first) metric source is written: what `validate --connect` points at. */
  readonly location: SourceLocation;
}

export interface PlannedSource {
  readonly kind: string;
  /** Undefined for the default source. */
  readonly connection: ConnectionSpec | undefined;
}

export interface PlanProblem {
  readonly sli: string;
  readonly message: string;
  readonly location?: SourceLocation | undefined;
}

export interface PullPlan {
  /** Data sources in use, by id. */
  readonly sources: ReadonlyMap<string, PlannedSource>;
  readonly slis: readonly PulledSli[];
  /** SLIs that name a pulled source but can't be pulled, and why (logged; their data may still be pushed). */
  readonly problems: readonly PlanProblem[];
}

export function planPulls(
  catalog: Catalog,
  registry: readonly SliSource[],
  options: { readonly defaultUrl: boolean },
): PullPlan {
  const dataSources = new Map(catalog.dataSources.map((d) => [d.name, d]));
  const sources = new Map<string, PlannedSource>();
  const problems: PlanProblem[] = [];
  const specsByKey = new Map<string, ObjectiveSpec[]>();
  for (const target of evaluationTargets(catalog))
    for (const part of target.parts) {
      const list = specsByKey.get(part.storageKey) ?? [];
      list.push(part.spec);
      specsByKey.set(part.storageKey, list);
    }

  const slis: PulledSli[] = [];
  const seen = new Set<string>();
  for (const sli of indicatorsInUse(catalog)) {
    if (seen.has(sli.name)) continue;
    seen.add(sli.name);
    const metricSources = sourcesOf(sli);
    const location = metricSources[0]?.location ?? sli.location;
    const problem = (message: string) => problems.push({ sli: sli.name, message, location });
    const typed = metricSources.map((s) => ({
      metric: s,
      reader: sourceForType(registry, s.type ?? dataSources.get(s.ref ?? '')?.type),
    }));
    const pulled = typed.filter((t) => t.reader !== undefined);
    if (pulled.length === 0) continue;
    const reader = pulled[0]!.reader!;
    if (pulled.length !== metricSources.length || pulled.some((t) => t.reader !== reader)) {
      problem(`mixes ${reader.kind} and other metric sources; not pulled`);
      continue;
    }
    const refs = new Set(metricSources.map((s) => s.ref ?? DEFAULT_SOURCE));
    if (refs.size > 1) {
      problem(`reads from several data sources (${[...refs].join(', ')}); use one`);
      continue;
    }
    const source = [...refs][0]!;
    if (source === DEFAULT_SOURCE) {
      if (reader.kind !== DEFAULT_SOURCE_KIND) {
        problem(
          `a ${reader.kind} metric source needs metricSourceRef: a DataSource of type ${reader.types[0]}`,
        );
        continue;
      }
      if (!options.defaultUrl) {
        problem(
          'has Prometheus queries but no metricSourceRef and no default Prometheus: set prometheus.url (SHINRAI_PROMETHEUS_URL) to read it',
        );
        continue;
      }
      sources.set(source, { kind: reader.kind, connection: undefined });
    } else {
      const dataSource = dataSources.get(source);
      // Defence in depth: the loader already refuses an uploaded DataSource that defines a connection.
      const parsed = parseConnectionDetails(dataSource?.connectionDetails ?? {}, {
        uploaded: dataSource !== undefined && isUploaded(dataSource.location),
        required: reader.requiredConnection,
      });
      if (!parsed.ok) {
        problem(`DataSource ${source}: ${parsed.problems.join('; ')}`);
        continue;
      }
      sources.set(source, { kind: reader.kind, connection: parsed.details });
    }
    const queries = queriesOf(sli, reader);
    if (typeof queries === 'string') {
      problem(queries);
      continue;
    }
    const route = routeSli(catalog, sli.name);
    if (!route) continue;
    if (queries.kind === 'threshold' && route.streams.some((s) => !s.threshold)) {
      problem('a threshold SLI needs op and value on every objective');
      continue;
    }
    slis.push({
      sli: sli.name,
      source,
      kind: reader.kind,
      queries,
      streams: route.streams,
      specs: route.streams.flatMap((s) => specsByKey.get(s.storageKey) ?? []),
      location,
    });
  }
  return { sources, slis, problems };
}

/** The indicators evaluated: SLO indicators and composite objectives' own. */
function indicatorsInUse(catalog: Catalog): SliDefinition[] {
  return catalog.slos.flatMap((slo) => [
    ...(slo.indicator ? [slo.indicator] : []),
    ...slo.objectives.flatMap((o) => (o.indicator ? [o.indicator] : [])),
  ]);
}

function sourcesOf(sli: SliDefinition): MetricSource[] {
  const i = sli.indicator;
  if (i.kind === 'threshold') return [i.metric];
  if (i.kind === 'raw') return [i.raw];
  return [i.good, i.bad, i.total].filter((s): s is MetricSource => s !== undefined);
}

/** The minute queries of an SLI, or why it has none. */
function queriesOf(sli: SliDefinition, reader: SliSource): PulledQueries | string {
  const i = sli.indicator;
  const plan = (metric: MetricSource, counter: boolean) => reader.minuteQuery(metric, { counter });
  if (i.kind === 'threshold') {
    const q = plan(i.metric, false);
    return 'problem' in q ? q.problem : { kind: 'threshold', metric: q.query };
  }
  if (i.kind === 'raw') {
    const q = plan(i.raw, false);
    return 'problem' in q ? q.problem : { kind: 'raw', rawType: i.rawType, raw: q.query };
  }
  const counter = i.counter === true;
  const total = plan(i.total, counter);
  if ('problem' in total) return total.problem;
  const part = i.good ?? i.bad;
  if (!part) return `a ${reader.kind} ratio SLI needs good or bad with total`;
  const counted = plan(part, counter);
  if ('problem' in counted) return counted.problem;
  return {
    kind: 'ratio',
    total: total.query,
    ...(i.good ? { good: counted.query } : { bad: counted.query }),
  };
}
