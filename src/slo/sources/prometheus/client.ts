/**
 * A small client for the Prometheus HTTP API's range query (`POST /api/v1/query_range`), which
 * Thanos, Mimir and VictoriaMetrics serve too. It classifies failures so the puller knows what
 * is worth retrying: a refused connection or a 503 is; a query Prometheus rejects is not.
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

/** One series of a range query: its labels and its samples as [ms of the evaluation instant, value]. */
export interface RangeSeries {
  readonly labels: Readonly<Record<string, string>>;
  readonly points: ReadonlyArray<readonly [number, number]>;
}

const sampleValue = z.string().transform((text) => {
  // Prometheus writes non-finite values as NaN, +Inf, -Inf, which Number() does not read.
  if (text === '+Inf' || text === 'Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  return Number(text);
});

const responseSchema = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('success'),
    data: z.object({
      resultType: z.literal('matrix'),
      result: z.array(
        z.object({
          metric: z.record(z.string(), z.string()),
          values: z.array(z.tuple([z.number(), sampleValue])).default([]),
        }),
      ),
    }),
  }),
  z.object({ status: z.literal('error'), errorType: z.string(), error: z.string() }),
]);

export interface RangeQuery {
  readonly query: string;
  /** First evaluation instant, ms (whole seconds). */
  readonly startMs: number;
  /** Last evaluation instant, ms, inclusive. */
  readonly endMs: number;
  readonly stepSeconds: number;
}

export class PrometheusClient implements SourceClient {
  private readonly dispatcher: Agent;
  private readonly timeoutMs: number;
  private readonly baseUrl: string;
  /** How errors name this server: scheme, host and port only (the URL may carry credentials). */
  private readonly shownUrl: string;

  constructor(private readonly connection: SourceConnection) {
    if (connection.url === undefined) throw new Error('connectionDetails.url is required for Prometheus');
    this.baseUrl = connection.url;
    this.timeoutMs = connection.timeoutMs;
    this.shownUrl = describeUrl(connection.url);
    this.dispatcher = sourceAgent('prometheus', connection);
  }

  get url(): string {
    return this.baseUrl;
  }

  /**
   * The minutes of `range`: an evaluation at instant t answers for the minute (t − 1m, t], so the
   * instants run from the end of the first minute to the end of the last, and each sample is filed
   * under the start of its minute.
   */
  async fetchMinutes(query: string, range: MinuteRange): Promise<MinuteSeries[]> {
    const series = await this.queryRange({
      query,
      startMs: range.fromMs + MINUTE_MS,
      endMs: range.toMs,
      stepSeconds: 60,
    });
    return series.map((s) => ({
      labels: s.labels,
      points: s.points.map(([ms, v]) => [ms - MINUTE_MS, v] as const),
    }));
  }

  /** Runs one range query; throws SourceQueryError. */
  async queryRange({ query, startMs, endMs, stepSeconds }: RangeQuery): Promise<RangeSeries[]> {
    const body = new URLSearchParams({
      query,
      start: (startMs / 1000).toString(),
      end: (endMs / 1000).toString(),
      step: stepSeconds.toString(),
      timeout: `${Math.max(1, Math.floor(this.timeoutMs / 1000))}s`,
    }).toString();
    let status: number;
    let text: string;
    let retryAfter: string | string[] | undefined;
    try {
      const response = await request(`${this.baseUrl}/api/v1/query_range`, {
        method: 'POST',
        dispatcher: this.dispatcher,
        headers: {
          ...this.connection.headers,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      status = response.statusCode;
      retryAfter = response.headers['retry-after'];
      text = await response.body.text();
    } catch (error) {
      throw transportFailure(error, this.shownUrl, this.timeoutMs);
    }
    return parseResponse(status, text, this.shownUrl, retryAfterMs(retryAfter, Date.now()));
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}

/**
 * Reads a query_range answer; exported for tests of odd answers. A failure says the status and
 * Prometheus' `errorType`, never the body (`shownUrl` is already without credentials).
 */
export function parseResponse(
  status: number,
  text: string,
  shownUrl: string,
  /** What a 429 or 503 asked to wait (Retry-After), for the loop's retry. */
  retryAfterMs?: number,
): RangeSeries[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = json === undefined ? undefined : responseSchema.safeParse(json);
  if (parsed?.success && parsed.data.status === 'success')
    return parsed.data.data.result.map((series) => ({
      labels: series.metric,
      points: series.values.map(([seconds, value]) => [Math.round(seconds * 1000), value] as const),
    }));
  const promError = parsed?.success && parsed.data.status === 'error' ? parsed.data : undefined;
  const answered = describeStatus(status);
  if (status === 401 || status === 403)
    return fail('unauthorized', `${shownUrl} refused the credentials (${answered})`, status);
  if (promError) {
    // Prometheus answers 503 for a query timeout or a shutting-down engine, 422/400 for bad queries.
    const retryable =
      status >= 500 || promError.errorType === 'timeout' || promError.errorType === 'unavailable';
    // errorType is one of a few words (bad_data, timeout…); anything else is not repeated.
    const type = /^[a-z_]{1,32}$/.test(promError.errorType) ? `, ${promError.errorType}` : '';
    return fail(
      retryable ? 'unavailable' : 'bad_query',
      retryable
        ? `${shownUrl} could not answer (${answered}${type})`
        : `${shownUrl} refused the query (${answered}${type}); run spec.query in Prometheus to see why`,
      status,
      retryable ? retryAfterMs : undefined,
    );
  }
  if (status === 429) return fail('rate_limited', `${shownUrl} answered ${answered}`, status, retryAfterMs);
  if (status >= 500) return fail('unavailable', `${shownUrl} answered ${answered}`, status, retryAfterMs);
  return fail(
    'bad_response',
    `${shownUrl} answered ${answered} with ${json === undefined ? 'a body that is not JSON' : 'JSON that is not a Prometheus range query result'}`,
    status,
  );
}

function fail(reason: SourceFailureReason, message: string, status: number, retryAfterMs?: number): never {
  throw new SourceQueryError(reason, message, status, retryAfterMs);
}
