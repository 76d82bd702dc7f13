/**
 * Datadog as an SLI source: metric queries rolled up per minute, read with the metrics query API
 * (`GET /api/v1/query`) through the official client. docs/sources.md#datadog.
 */
import type { SliSource } from '../port.js';
import { connectDatadog, DATADOG_DEFAULT_URL } from './client.js';
import { planDatadogQuery } from './query.js';

export {
  classifyDatadogStatus,
  connectDatadog,
  DATADOG_DEFAULT_URL,
  DatadogClient,
  datadogMinutes,
  EgressHttpLibrary,
} from './client.js';
export { planDatadogQuery } from './query.js';

export const datadogSource: SliSource = {
  kind: 'datadog',
  types: ['datadog'],
  // The query API returns a limited number of points a series and coarsens the rollup of longer
  // ranges; a day of minutes (1,440 points) keeps the 60 s rollup (an answer at another interval
  // is refused, client.ts).
  maxChunkMinutes: 1440,
  requiredConnection: ['apiKey', 'appKey'],
  defaultUrl: () => DATADOG_DEFAULT_URL,
  minuteQuery: (metric, { counter }) => planDatadogQuery(metric, counter),
  connect: connectDatadog,
};
