/**
 * Grafana Loki as an SLI source: log-based SLIs counted per minute with LogQL range queries
 * (`GET /loki/api/v1/query_range`, step 60 s). docs/sources.md#loki.
 */
import type { SliSource } from '../port.js';
import { LokiClient } from './client.js';
import { planLogQl } from './query.js';

export { LokiClient, parseLokiResponse } from './client.js';
export { planLogQl } from './query.js';

export const lokiSource: SliSource = {
  kind: 'loki',
  types: ['loki'],
  // Loki refuses more than 11,000 points a series; a day a query also keeps each query's scan of
  // the log chunks bounded (a query over a week of logs can hit the querier's timeout).
  maxChunkMinutes: 1440,
  requiredConnection: ['url'],
  minuteQuery: (metric) => planLogQl(metric),
  connect: async (connection) => new LokiClient(connection),
};
