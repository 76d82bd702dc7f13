/**
 * CloudWatch per minute (pure): a metric source written as OpenSLO/Nobl9 write CloudWatch —
 * `namespace`, `metricName`, `stat`, `dimensions`, or a Metrics Insights `sql`, or a metric-math
 * `expression` (a SEARCH) — becomes one GetMetricData `MetricDataQuery` with `Period: 60`, planned
 * as stable JSON text (keys in a fixed order, dimensions sorted) so that the plan hash only changes
 * when the query does.
 */
import type { MetricSource } from '../../model.js';
import { type PlannedQuery, specText } from '../port.js';

/** The one query id of a planned query (GetMetricData ids start with a lower-case letter). */
export const QUERY_ID = 'm0';
export const PERIOD_SECONDS = 60;

export interface MinuteMetricDataQuery {
  readonly Id: string;
  readonly MetricStat?: {
    readonly Metric: {
      readonly Namespace: string;
      readonly MetricName: string;
      readonly Dimensions: ReadonlyArray<{ readonly Name: string; readonly Value: string }>;
    };
    readonly Period: number;
    readonly Stat: string;
  };
  readonly Expression?: string;
  readonly Period?: number;
  readonly ReturnData: true;
}

/** Statistics GetMetricData accepts: the named ones, percentiles and trimmed/windsorized forms. */
const STAT =
  /^(SampleCount|Average|Sum|Minimum|Maximum|IQM|p\d{1,2}(\.\d+)?|p100|(tm|wm|tc|ts|pr|TM|WM|TC|TS|PR)\(?[\d.:%]*\)?|(tm|wm|tc|ts|pr)\d{1,2}(\.\d+)?)$/;

type Dimensions = Array<{ Name: string; Value: string }>;

/** `dimensions` as a list of `{name, value}` (OpenSLO, Nobl9) or a map `{InstanceId: i-1}`. */
function readDimensions(raw: unknown): Dimensions | string {
  if (raw === undefined || raw === null) return [];
  const list: Dimensions = [];
  if (Array.isArray(raw)) {
    for (const entry of raw) {
      const e = entry as Record<string, unknown> | null;
      const name = e?.name ?? e?.Name;
      const value = e?.value ?? e?.Value;
      if (typeof name !== 'string' || !name || typeof value !== 'string')
        return 'spec.dimensions: each entry needs a name and a string value (- name: LoadBalancer, value: app/web/123)';
      list.push({ Name: name, Value: value });
    }
  } else if (typeof raw === 'object') {
    for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
      if (typeof value !== 'string') return `spec.dimensions.${name}: must be a string`;
      list.push({ Name: name, Value: value });
    }
  } else return 'spec.dimensions: must be a list of {name, value}';
  if (list.length > 30) return 'spec.dimensions: CloudWatch allows at most 30 dimensions';
  if (new Set(list.map((d) => d.Name)).size !== list.length) return 'spec.dimensions: a name is given twice';
  return list.sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
}

/** The per-minute MetricDataQuery of a CloudWatch metric source, or why it can't be read. */
export function planCloudWatch(metric: MetricSource, counter: boolean): PlannedQuery {
  const spec = metric.spec;
  if (counter)
    return {
      problem:
        'counter: true does not apply to CloudWatch: a metric with stat Sum already gives each minute its count; drop counter: true',
    };
  const period = spec.period ?? spec.Period;
  if (period !== undefined && Number(period) !== PERIOD_SECONDS)
    return { problem: `spec.period must be 60 (Shinrai reads one value a minute), not ${String(period)}` };
  const sql = specText(metric, 'sql');
  const expression = specText(metric, 'expression');
  const byName = spec.namespace !== undefined || spec.metricName !== undefined;
  const forms = [sql !== undefined, expression !== undefined, byName].filter(Boolean).length;
  if (forms === 0)
    return {
      problem:
        'a CloudWatch metric source needs namespace, metricName and stat (with dimensions), or sql (Metrics Insights), or expression',
    };
  if (forms > 1) return { problem: 'give one of namespace/metricName/stat, sql or expression, not several' };
  const text = sql ?? expression;
  if (text !== undefined) {
    if (text.length > 2048) return { problem: 'the CloudWatch expression is longer than 2,048 characters' };
    const query: MinuteMetricDataQuery = {
      Id: QUERY_ID,
      Expression: text,
      Period: PERIOD_SECONDS,
      ReturnData: true,
    };
    return { query: JSON.stringify(query) };
  }
  const namespace = spec.namespace;
  const metricName = spec.metricName;
  const stat = spec.stat;
  if (typeof namespace !== 'string' || !namespace.trim())
    return { problem: 'spec.namespace: give the metric namespace (AWS/ApplicationELB)' };
  if (typeof metricName !== 'string' || !metricName.trim())
    return { problem: 'spec.metricName: give the metric name (RequestCount)' };
  if (typeof stat !== 'string' || !STAT.test(stat))
    return {
      problem: `spec.stat: give a CloudWatch statistic (Sum for counts; Average, Maximum, p99…)${typeof stat === 'string' ? `, not "${stat.slice(0, 40)}"` : ''}`,
    };
  const dimensions = readDimensions(spec.dimensions);
  if (typeof dimensions === 'string') return { problem: dimensions };
  const query: MinuteMetricDataQuery = {
    Id: QUERY_ID,
    MetricStat: {
      Metric: { Namespace: namespace.trim(), MetricName: metricName.trim(), Dimensions: dimensions },
      Period: PERIOD_SECONDS,
      Stat: stat,
    },
    ReturnData: true,
  };
  return { query: JSON.stringify(query) };
}

/** The MetricDataQuery of a planned query (its own JSON): throws on text that is not one. */
export function parsePlanned(query: string): MinuteMetricDataQuery {
  const parsed = JSON.parse(query) as MinuteMetricDataQuery;
  if (parsed === null || typeof parsed !== 'object' || parsed.Id !== QUERY_ID)
    throw new Error('not a planned CloudWatch query');
  return parsed;
}
