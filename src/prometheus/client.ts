/**
 * A small client for the Prometheus HTTP API's range query (`POST /api/v1/query_range`), which
 * Thanos, Mimir and VictoriaMetrics serve too. It classifies failures so the puller knows what
 * is worth retrying: a refused connection or a 503 is; a query Prometheus rejects is not.
 */
import { Agent, request, errors as undiciErrors } from 'undici';
import { z } from 'zod';
import type { ResolvedConnection } from './connection.js';

/** One series of a range query: its labels and its samples as [ms, value]. */
export interface RangeSeries {
  readonly labels: Readonly<Record<string, string>>;
  readonly points: ReadonlyArray<readonly [number, number]>;
}

export type QueryFailureReason =
  /** Connection refused/reset, DNS: Prometheus could not be reached. */
  | 'unreachable'
  /** The server's certificate could not be verified (wrong CA, name, expired): retrying won't help. */
  | 'tls'
  | 'timeout'
  /** 5xx or 429 without a PromQL error: the server is overloaded or restarting. */
  | 'unavailable'
  /** Prometheus refused the query (bad PromQL, too many points): retrying won't help. */
  | 'bad_query'
  /** 401/403: credentials. */
  | 'unauthorized'
  /** Not a Prometheus API answer. */
  | 'bad_response';

export class PrometheusQueryError extends Error {
  constructor(
    readonly reason: QueryFailureReason,
    message: string,
    readonly status?: number | undefined,
  ) {
    super(message);
    this.name = 'PrometheusQueryError';
  }

  get retryable(): boolean {
    return this.reason === 'unreachable' || this.reason === 'timeout' || this.reason === 'unavailable';
  }
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

export class PrometheusClient {
  private readonly dispatcher: Agent;
  private readonly timeoutMs: number;

  constructor(
    private readonly connection: ResolvedConnection,
    options: { readonly timeoutMs: number },
  ) {
    this.timeoutMs = connection.timeoutMs ?? options.timeoutMs;
    this.dispatcher = new Agent({
      connect: connection.ca ? { ca: connection.ca } : {},
      keepAliveTimeout: 30_000,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
    });
  }

  get url(): string {
    return this.connection.url;
  }

  /** Runs one range query; throws PrometheusQueryError. */
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
    try {
      const response = await request(`${this.connection.url}/api/v1/query_range`, {
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
      text = await response.body.text();
    } catch (error) {
      throw transportError(error, this.connection.url, this.timeoutMs);
    }
    return parseResponse(status, text, this.connection.url);
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}

function transportError(error: unknown, url: string, timeoutMs: number): PrometheusQueryError {
  const err = error as Error & { code?: string; cause?: { code?: string } };
  if (
    err.name === 'TimeoutError' ||
    err.name === 'AbortError' ||
    err instanceof undiciErrors.HeadersTimeoutError ||
    err instanceof undiciErrors.BodyTimeoutError
  )
    return new PrometheusQueryError('timeout', `${url} did not answer within ${timeoutMs / 1000} s`);
  const cause = (err.cause ?? err) as Error & { code?: string };
  const code = err.code ?? cause.code;
  const detail =
    code && cause.message && cause.message !== code ? `${code} (${cause.message})` : (code ?? err.message);
  if (code && /CERT|SIGNATURE|SELF_SIGNED|ERR_TLS|ISSUER/.test(code))
    return new PrometheusQueryError('tls', `${url}: TLS certificate not trusted: ${detail}; set tlsCaFile`);
  return new PrometheusQueryError('unreachable', `${url} unreachable: ${detail}`);
}

/** Reads a query_range answer; exported for tests of odd answers. */
export function parseResponse(status: number, text: string, url: string): RangeSeries[] {
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
  if (status === 401 || status === 403)
    return fail('unauthorized', `${url} refused the credentials (HTTP ${status})`, status);
  if (promError) {
    // Prometheus answers 503 for a query timeout or a shutting-down engine, 422/400 for bad queries.
    const retryable =
      status >= 500 || promError.errorType === 'timeout' || promError.errorType === 'unavailable';
    return fail(
      retryable ? 'unavailable' : 'bad_query',
      `${url}: ${promError.errorType}: ${promError.error}`,
      status,
    );
  }
  if (status >= 500 || status === 429) return fail('unavailable', `${url} answered HTTP ${status}`, status);
  return fail(
    'bad_response',
    `${url} answered HTTP ${status} with ${json === undefined ? 'a body that is not JSON' : 'JSON that is not a Prometheus range query result'}: ${text.slice(0, 120)}`,
    status,
  );
}

function fail(reason: QueryFailureReason, message: string, status: number): never {
  throw new PrometheusQueryError(reason, message, status);
}
