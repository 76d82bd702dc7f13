/**
 * A small client for Grafana Loki's range query (`GET /loki/api/v1/query_range`) of metric
 * (LogQL) queries. It files each sample under the start of its minute and classifies failures so
 * the pull loop knows what is worth retrying. Errors name the status and scheme://host:port only:
 * Loki answers errors with a plain-text body that quotes the query, which is never repeated.
 */
import { type Agent, request } from 'undici';
import { z } from 'zod';
import { describeStatus, describeUrl } from '../../../platform/remote-error.js';
import { retryAfterMs, sourceAgent, transportFailure } from '../http.js';
import {
  MINUTE_MS,
  type MinuteRange,
  type MinuteSeries,
  type SourceClient,
  type SourceConnection,
  type SourceFailureReason,
  SourceQueryError,
} from '../port.js';

const sampleValue = z.string().transform((text) => {
  if (text === '+Inf' || text === 'Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  return Number(text);
});

const successSchema = z.object({
  status: z.literal('success'),
  data: z.discriminatedUnion('resultType', [
    z.object({
      resultType: z.literal('matrix'),
      result: z.array(
        z.object({
          metric: z.record(z.string(), z.string()).default({}),
          values: z.array(z.tuple([z.number(), sampleValue])).default([]),
        }),
      ),
    }),
    // A log query answers streams: not something that has a value per minute.
    z.object({ resultType: z.enum(['streams', 'vector', 'scalar']) }),
  ]),
});

const errorSchema = z.object({ status: z.literal('error'), errorType: z.string().optional() });

export class LokiClient implements SourceClient {
  private readonly dispatcher: Agent;
  private readonly baseUrl: string;
  private readonly shownUrl: string;

  constructor(private readonly connection: SourceConnection) {
    if (connection.url === undefined) throw new Error('connectionDetails.url is required for Loki');
    this.baseUrl = connection.url;
    this.shownUrl = describeUrl(connection.url);
    this.dispatcher = sourceAgent('loki', connection);
  }

  /**
   * The minutes of `range`: Loki evaluates a range aggregation at instant t over the lines of
   * (t − 1m, t], so the instants run from the end of the first minute to the end of the last
   * (step 60 s), and each sample is filed under the start of its minute.
   */
  async fetchMinutes(query: string, range: MinuteRange): Promise<MinuteSeries[]> {
    const params = new URLSearchParams({
      query,
      // Nanoseconds since the epoch, Loki's own unit (it also reads seconds and RFC 3339).
      start: `${range.fromMs + MINUTE_MS}000000`,
      end: `${range.toMs}000000`,
      step: '60s',
    });
    const timeoutMs = this.connection.timeoutMs;
    let status: number;
    let text: string;
    let retryAfter: string | undefined;
    try {
      const response = await request(`${this.baseUrl}/loki/api/v1/query_range?${params}`, {
        method: 'GET',
        dispatcher: this.dispatcher,
        headers: { ...this.connection.headers, accept: 'application/json' },
        signal: AbortSignal.timeout(timeoutMs),
      });
      status = response.statusCode;
      const header = response.headers['retry-after'];
      retryAfter = Array.isArray(header) ? header[0] : header;
      text = await response.body.text();
    } catch (error) {
      throw transportFailure(error, this.shownUrl, timeoutMs);
    }
    return parseLokiResponse(status, text, this.shownUrl, retryAfter).map((s) => ({
      labels: s.labels,
      points: s.points
        .filter(([ms]) => ms > range.fromMs && ms <= range.toMs)
        .map(([ms, v]) => [ms - MINUTE_MS, v] as const),
    }));
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}

/**
 * Reads a query_range answer as [ms of the evaluation instant, value] per series; exported for
 * tests of odd answers. A failure names the status, never the body.
 */
export function parseLokiResponse(
  status: number,
  text: string,
  shownUrl: string,
  retryAfter?: string,
): Array<{ labels: Record<string, string>; points: Array<readonly [number, number]> }> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const answered = describeStatus(status);
  if (status >= 200 && status < 300) {
    const parsed = successSchema.safeParse(json);
    if (parsed.success) {
      const data = parsed.data.data;
      if (data.resultType !== 'matrix')
        return fail(
          'bad_query',
          `${shownUrl} answered a ${data.resultType} result: spec.logql must be a metric query (sum(count_over_time(…[1m])))`,
          status,
        );
      return data.result.map((series) => ({
        labels: series.metric,
        points: series.values.map(([seconds, value]) => [Math.round(seconds * 1000), value] as const),
      }));
    }
    return fail(
      'bad_response',
      `${shownUrl} answered ${answered} with ${json === undefined ? 'a body that is not JSON' : 'JSON that is not a Loki range query result'}`,
      status,
    );
  }
  if (status === 401 || status === 403)
    return fail('unauthorized', `${shownUrl} refused the credentials or tenant (${answered})`, status);
  if (status === 429)
    throw new SourceQueryError(
      'rate_limited',
      `${shownUrl} is rate limiting queries (${answered})`,
      status,
      retryAfterMs(retryAfter, Date.now()),
    );
  if (status >= 500) return fail('unavailable', `${shownUrl} could not answer (${answered})`, status);
  // 400: a LogQL parse error or a limit (max query length, series, 11,000 points a series).
  const type = errorSchema.safeParse(json);
  const errorType =
    type.success && type.data.errorType && /^[a-z_]{1,32}$/.test(type.data.errorType)
      ? `, ${type.data.errorType}`
      : '';
  if (status >= 400)
    return fail(
      'bad_query',
      `${shownUrl} refused the query (${answered}${errorType}); run spec.logql in Grafana Explore or logcli to see why`,
      status,
    );
  return fail('bad_response', `${shownUrl} answered ${answered}`, status);
}

function fail(reason: SourceFailureReason, message: string, status: number): never {
  throw new SourceQueryError(reason, message, status);
}
