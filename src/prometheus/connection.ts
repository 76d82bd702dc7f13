/**
 * How the puller reaches one Prometheus (or Thanos, Mimir, VictoriaMetrics): the OpenSLO
 * `DataSource` `connectionDetails` of a `prometheus` data source (see platform/connections.ts).
 */
export {
  type ConnectionDetails,
  type ConnectionRef,
  type ConnectionSpec,
  isConnectionRef,
  type ParsedConnection,
  parseConnectionDetails,
  parseInlineConnection,
  type ResolvedConnection,
  resolveConnection,
  type SecretSources,
  UPLOADED_CONNECTION_HINT,
} from '../platform/connections.js';

/** The data source type the puller reads (compared case-insensitively, as OpenSLO writes `Prometheus`). */
export const PROMETHEUS_TYPE = 'prometheus';

export function isPrometheusType(type: string | undefined): boolean {
  return type?.toLowerCase() === PROMETHEUS_TYPE;
}
