/**
 * New Relic (NRQL through NerdGraph) as an SLI source: DataSource type `NewRelic` (`newrelic`,
 * `new-relic`). docs/sources.md#new-relic.
 */
import type { SliSource } from '../port.js';
import { DEFAULT_NERDGRAPH_URL, NewRelicClient } from './client.js';
import { planNrql } from './query.js';

export { NewRelicClient, NRQL_DOCUMENT, newRelicRetryAfterMs, parseNerdGraph } from './client.js';
export { planNrql, rangedNrql, TIMESERIES_MINUTE } from './query.js';

export const newRelicSource: SliSource = {
  kind: 'newrelic',
  types: ['newrelic', 'new-relic'],
  // NRQL's TIMESERIES returns at most 366 buckets.
  maxChunkMinutes: 366,
  requiredConnection: ['apiKey', 'accountId'],
  defaultUrl: () => DEFAULT_NERDGRAPH_URL,
  minuteQuery: (metric, { counter }) => planNrql(metric, counter),
  connect: async (connection) => new NewRelicClient(connection),
};
