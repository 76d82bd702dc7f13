/**
 * Amazon CloudWatch (GetMetricData) as an SLI source: DataSource type `CloudWatch` (`cloudwatch`,
 * `aws-cloudwatch`). docs/sources.md#amazon-cloudwatch.
 */
import type { SliSource } from '../port.js';
import { CloudWatchClient, defaultCloudWatchUrl } from './client.js';
import { planCloudWatch } from './query.js';

export { CloudWatchClient, classifyAwsError, defaultCloudWatchUrl, EgressRequestHandler } from './client.js';
export {
  type MinuteMetricDataQuery,
  PERIOD_SECONDS,
  parsePlanned,
  planCloudWatch,
  QUERY_ID,
} from './query.js';

export const cloudWatchSource: SliSource = {
  kind: 'cloudwatch',
  types: ['cloudwatch', 'aws-cloudwatch'],
  // GetMetricData returns at most 100,800 data points a call (pages beyond it follow NextToken).
  maxChunkMinutes: 100_800,
  requiredConnection: ['region', 'accessKeyId', 'secretAccessKey'],
  defaultUrl: (credentials) => defaultCloudWatchUrl(credentials.region),
  minuteQuery: (metric, { counter }) => planCloudWatch(metric, counter),
  connect: async (connection) => new CloudWatchClient(connection),
};
