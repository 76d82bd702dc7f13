/**
 * Builds a source's client from its planned connection: the default Prometheus of the
 * configuration, a DataSource's own `connectionDetails` (from disk), or a configured
 * `connections.<name>` it names. Shared by the pull loop and `shinrai validate --connect`.
 */
import {
  type ConnectionDetails,
  isConnectionRef,
  resolveConnection,
  type SecretSources,
} from '../../platform/connections.js';
import type { Egress } from '../../platform/egress.js';
import { DEFAULT_SOURCE, type PlannedSource } from './plan.js';
import type { SliSource, SourceClient } from './port.js';

export interface ConnectContext {
  /** `prometheus.url`: the source of metric sources without a `metricSourceRef`. */
  readonly defaultUrl?: string | undefined;
  /** Per-query timeout when the connection sets none. */
  readonly timeoutMs: number;
  /** `connections.<name>` of the configuration. */
  readonly connections?: Readonly<Record<string, ConnectionDetails>> | undefined;
  readonly secrets?: SecretSources | undefined;
  readonly egress: Egress;
}

/** Throws an Error naming what is missing (a connection, a field, an environment variable). */
export async function connectSource(
  reader: SliSource,
  source: string,
  planned: PlannedSource,
  context: ConnectContext,
): Promise<SourceClient> {
  const { timeoutMs, egress } = context;
  if (source === DEFAULT_SOURCE || !planned.connection) {
    if (context.defaultUrl === undefined) throw new Error('prometheus.url is not configured');
    return reader.connect({
      url: context.defaultUrl.replace(/\/+$/, ''),
      headers: {},
      credentials: {},
      timeoutMs,
      egress,
    });
  }
  const details = inlineDetails(planned.connection, context);
  const missing = reader.requiredConnection.filter(
    (field) => (details as Record<string, unknown>)[field] === undefined,
  );
  if (missing.length)
    throw new Error(`a ${reader.kind} connection needs ${missing.join(', ')} (docs/sources.md)`);
  const resolved = resolveConnection(details, context.secrets);
  return reader.connect({
    url: resolved.url ?? reader.defaultUrl?.(resolved.credentials),
    headers: resolved.headers,
    ca: resolved.ca,
    timeoutMs: resolved.timeoutMs ?? timeoutMs,
    credentials: resolved.credentials,
    egress,
  });
}

/**
 * The inline connection to resolve: written in a DataSource (from disk: the plan refuses uploaded
 * ones) or configured under `connections.<name>`, which a DataSource names.
 */
function inlineDetails(
  details: NonNullable<PlannedSource['connection']>,
  context: ConnectContext,
): ConnectionDetails {
  if (!isConnectionRef(details)) return details;
  const configured = context.connections?.[details.connection];
  if (!configured)
    throw new Error(
      `connection "${details.connection}" is not configured on the server (connections.${details.connection} in the config file)`,
    );
  return configured;
}
