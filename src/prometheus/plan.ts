/**
 * Which SLIs Shinrai reads from Prometheus, and with which per-minute queries (pure). An SLI is
 * pulled when every metric source it has is of type `prometheus`, either through a
 * `metricSourceRef` to a Prometheus DataSource or, without a ref (Sloth specs), from the default
 * Prometheus in the configuration. See docs/prometheus.md.
 */
import type { ObjectiveSpec } from '../slo/budget/types.js';
import { evaluationTargets } from '../slo/evaluation.js';
import type { Catalog, MetricSource, SliDefinition } from '../slo/model.js';
import { routeSli, type SliStream } from '../slo/sli-routing.js';
import { isUploaded } from '../slo/spec/origin.js';
import { type ConnectionSpec, isPrometheusType, parseConnectionDetails } from './connection.js';

/** Source id of metric sources without a `metricSourceRef`: `prometheus.url` in the configuration. */
export const DEFAULT_SOURCE = 'default';

export type PulledQueries =
  | { readonly kind: 'ratio'; readonly good?: string; readonly bad?: string; readonly total: string }
  | { readonly kind: 'raw'; readonly rawType: 'success' | 'failure'; readonly raw: string }
  | { readonly kind: 'threshold'; readonly metric: string };

export interface PulledSli {
  /** The SLI's name: the unit that is queried (one cursor each). */
  readonly sli: string;
  /** A DataSource name, or DEFAULT_SOURCE. */
  readonly source: string;
  readonly queries: PulledQueries;
  /** The stored streams the results fill (one for ratio and raw SLIs, one per threshold otherwise). */
  readonly streams: readonly SliStream[];
  /** Objectives reading this SLI, for how far back the first load must go. */
  readonly specs: readonly ObjectiveSpec[];
}

export interface PullPlan {
  /** Data sources in use, by id; undefined details for the default source. */
  readonly sources: ReadonlyMap<string, ConnectionSpec | undefined>;
  readonly slis: readonly PulledSli[];
  /** SLIs that name Prometheus but can't be pulled, and why (logged; their data may still be pushed). */
  readonly problems: ReadonlyArray<{ readonly sli: string; readonly message: string }>;
}

/** The window a minute query covers: `{{.window}}` in a query (Sloth, OpenSLO examples) becomes this. */
export const MINUTE_WINDOW = '1m';

const WINDOW_TEMPLATE = /\{\{\s*\.window\s*\}\}/g;

/**
 * The query whose value at instant t is the SLI's count (or value) for the minute (t − 1m, t]:
 * `{{.window}}` becomes `1m`; a `counter: true` query (a cumulative counter selector) becomes
 * `sum(increase(<selector>[1m]))`; any other query is used as written.
 */
export function minuteQuery(query: string, counter: boolean | undefined): string {
  const text = query.trim();
  if (WINDOW_TEMPLATE.test(text)) {
    WINDOW_TEMPLATE.lastIndex = 0;
    return text.replace(WINDOW_TEMPLATE, MINUTE_WINDOW);
  }
  return counter ? `sum(increase(${text}[${MINUTE_WINDOW}]))` : text;
}

export function planPulls(catalog: Catalog, options: { readonly defaultUrl: boolean }): PullPlan {
  const dataSources = new Map(catalog.dataSources.map((d) => [d.name, d]));
  const sources = new Map<string, ConnectionSpec | undefined>();
  const problems: Array<{ sli: string; message: string }> = [];
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
    const prometheus = metricSources.filter((s) =>
      isPrometheusType(s.type ?? dataSources.get(s.ref ?? '')?.type),
    );
    if (prometheus.length === 0) continue;
    if (prometheus.length !== metricSources.length) {
      problems.push({
        sli: sli.name,
        message: 'mixes Prometheus and other metric sources; not read from Prometheus',
      });
      continue;
    }
    const refs = new Set(prometheus.map((s) => s.ref ?? DEFAULT_SOURCE));
    if (refs.size > 1) {
      problems.push({
        sli: sli.name,
        message: `reads from several data sources (${[...refs].join(', ')}); use one`,
      });
      continue;
    }
    const source = [...refs][0]!;
    if (source === DEFAULT_SOURCE) {
      if (!options.defaultUrl) {
        problems.push({
          sli: sli.name,
          message:
            'has Prometheus queries but no metricSourceRef and no default Prometheus: set prometheus.url (SHINRAI_PROMETHEUS_URL) to read it',
        });
        continue;
      }
      sources.set(source, undefined);
    } else {
      const dataSource = dataSources.get(source);
      // Defence in depth: the loader already refuses an uploaded DataSource that defines a connection.
      const parsed = parseConnectionDetails(dataSource?.connectionDetails, {
        uploaded: dataSource !== undefined && isUploaded(dataSource.location),
      });
      if (!parsed.ok) {
        problems.push({ sli: sli.name, message: `DataSource ${source}: ${parsed.problems.join('; ')}` });
        continue;
      }
      sources.set(source, parsed.details);
    }
    const queries = queriesOf(sli);
    if (typeof queries === 'string') {
      problems.push({ sli: sli.name, message: queries });
      continue;
    }
    const route = routeSli(catalog, sli.name);
    if (!route) continue;
    if (queries.kind === 'threshold' && route.streams.some((s) => !s.threshold)) {
      problems.push({ sli: sli.name, message: 'a threshold SLI needs op and value on every objective' });
      continue;
    }
    slis.push({
      sli: sli.name,
      source,
      queries,
      streams: route.streams,
      specs: route.streams.flatMap((s) => specsByKey.get(s.storageKey) ?? []),
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
function queriesOf(sli: SliDefinition): PulledQueries | string {
  const queryOf = (source: MetricSource): string | undefined => {
    const q = source.spec.query ?? source.spec.promql;
    return typeof q === 'string' && q.trim() ? q : undefined;
  };
  const missing = 'a Prometheus metric source needs spec.query (PromQL)';
  const i = sli.indicator;
  if (i.kind === 'threshold') {
    const q = queryOf(i.metric);
    return q ? { kind: 'threshold', metric: minuteQuery(q, false) } : missing;
  }
  if (i.kind === 'raw') {
    const q = queryOf(i.raw);
    return q ? { kind: 'raw', rawType: i.rawType, raw: minuteQuery(q, false) } : missing;
  }
  const total = queryOf(i.total);
  const good = i.good && queryOf(i.good);
  const bad = i.bad && queryOf(i.bad);
  if (!total || (!good && !bad)) return missing;
  return {
    kind: 'ratio',
    total: minuteQuery(total, i.counter),
    ...(good ? { good: minuteQuery(good, i.counter) } : { bad: minuteQuery(bad!, i.counter) }),
  };
}
