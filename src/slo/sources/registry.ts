/**
 * The sources Shinrai pulls from. Adding one: a folder under `slo/sources/` exporting an `SliSource`
 * (port.ts), and one line here. Nothing else changes: the plan, the pull loop, `validate --connect`
 * and `/metrics` work from this list. docs/sources.md.
 */
import { cloudWatchSource } from './cloudwatch/index.js';
import { datadogSource } from './datadog/index.js';
import { lokiSource } from './loki/index.js';
import { newRelicSource } from './newrelic/index.js';
import type { SliSource } from './port.js';
import { prometheusSource } from './prometheus/index.js';

export const SOURCES: readonly SliSource[] = [
  prometheusSource,
  lokiSource,
  datadogSource,
  newRelicSource,
  cloudWatchSource,
];

/** The source that reads a DataSource type (case-insensitive, as OpenSLO writes `Prometheus`). */
export function sourceForType(
  registry: readonly SliSource[],
  type: string | undefined,
): SliSource | undefined {
  if (type === undefined) return undefined;
  const lower = type.toLowerCase();
  return registry.find((source) => source.types.includes(lower));
}

/** Whether Shinrai pulls DataSources of this type (their connectionDetails are checked at load). */
export function isPulledType(type: string | undefined): boolean {
  return sourceForType(SOURCES, type) !== undefined;
}
