/**
 * Prometheus (and Thanos, Mimir, VictoriaMetrics: anything serving `/api/v1/query_range`) as an
 * SLI source. docs/prometheus.md.
 */
import type { SliSource } from '../port.js';
import { PrometheusClient } from './client.js';
import { groupMinuteQueries } from './group.js';
import { planPromQl } from './query.js';

export { PrometheusClient, parseResponse, type RangeQuery, type RangeSeries } from './client.js';
export { MINUTE_WINDOW, minuteQuery } from './query.js';

export const prometheusSource: SliSource = {
  kind: 'prometheus',
  types: ['prometheus'],
  // Prometheus refuses more than 11,000 points a series.
  maxChunkMinutes: 10_000,
  requiredConnection: ['url'],
  minuteQuery: (metric, { counter }) => planPromQl(metric, counter),
  groupQueries: groupMinuteQueries,
  connect: async (connection) => new PrometheusClient(connection),
};
