/**
 * Where ingested data for a name goes: the name in POST /api/v1/sli/{name}/events is an SLI
 * (standalone or inline) or an SLO id; the result says how to read the events and which stored
 * streams they feed.
 */
import { evaluationTargets, storageKey } from './evaluation.js';
import type { Catalog, SliDefinition, ThresholdOp } from './model.js';

export interface SliStream {
  readonly storageKey: string;
  /** For threshold SLIs: a raw value is good when `value op threshold` holds. */
  readonly threshold?: { readonly op: ThresholdOp; readonly value: number } | undefined;
}

export interface SliRoute {
  readonly sli: SliDefinition;
  readonly kind: SliDefinition['indicator']['kind'];
  /** Distinct streams fed by this SLI (one for ratio SLIs, one per threshold otherwise). */
  readonly streams: readonly SliStream[];
}

/** Resolves a name to its SLI and streams, or undefined when nothing by that name is evaluated. */
export function routeSli(catalog: Catalog, name: string): SliRoute | undefined {
  const streams = new Map<string, SliStream>();
  let sli: SliDefinition | undefined;
  const bySlo = catalog.slos.find((s) => s.id === name && !s.composite);
  for (const slo of catalog.slos) {
    for (const objective of slo.objectives) {
      const indicator = objective.indicator ?? slo.indicator;
      if (!indicator) continue;
      const matches = bySlo ? slo === bySlo : indicator.name === name;
      if (!matches) continue;
      sli = indicator;
      const key = storageKey(indicator, objective);
      streams.set(key, {
        storageKey: key,
        threshold:
          indicator.indicator.kind === 'threshold' &&
          objective.op !== undefined &&
          objective.value !== undefined
            ? { op: objective.op, value: objective.value }
            : undefined,
      });
    }
  }
  if (!sli) return undefined;
  return { sli, kind: sli.indicator.kind, streams: [...streams.values()] };
}

/** Every stored stream the evaluator reads, for checks and cleanup. */
export function allStorageKeys(catalog: Catalog): string[] {
  return [...new Set(evaluationTargets(catalog).flatMap((t) => t.parts.map((p) => p.storageKey)))];
}

const servicesCache = new WeakMap<Catalog, ReadonlyMap<string, readonly string[]>>();

/**
 * The services whose SLOs each ingestion name feeds (an SLI name, or an SLO id, which wins as in
 * routeSli): what a push to it touches, for team-scoped writes. Built once per catalog object (a
 * reload makes a new one), so the ingestion hot path only looks a name up.
 */
export function servicesBySli(catalog: Catalog): ReadonlyMap<string, readonly string[]> {
  let byName = servicesCache.get(catalog);
  if (byName) return byName;
  const sets = new Map<string, Set<string>>();
  const add = (name: string, service: string) => sets.set(name, (sets.get(name) ?? new Set()).add(service));
  for (const slo of catalog.slos)
    for (const objective of slo.objectives) {
      const indicator = objective.indicator ?? slo.indicator;
      if (indicator) add(indicator.name, slo.service);
    }
  for (const slo of catalog.slos)
    if (!slo.composite && slo.objectives.some((o) => o.indicator ?? slo.indicator))
      sets.set(slo.id, new Set([slo.service]));
  byName = new Map([...sets].map(([name, services]) => [name, [...services].sort()]));
  servicesCache.set(catalog, byName);
  return byName;
}
