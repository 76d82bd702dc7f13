/**
 * Datadog's metrics query API (`GET /api/v1/query`) through the official client
 * (`@datadog/datadog-api-client`, v1 `MetricsApi.queryMetrics`), whose HTTP goes through an
 * HttpLibrary of ours built on undici with the egress dispatcher, so `egress.allow` applies and
 * failures are classified from the status and Datadog's rate-limit headers. Errors name the status
 * and scheme://host:port only, never a body (Datadog's error bodies quote the query) or a key.
 */
import type { client as ddClient, v1 as ddV1 } from '@datadog/datadog-api-client';
import { type Agent, request } from 'undici';
import { describeStatus, describeUrl } from '../../../platform/remote-error.js';
import { sourceAgent, transportFailure } from '../http.js';
import {
  MINUTE_MS,
  type MinuteRange,
  type MinuteSeries,
  type SourceClient,
  type SourceConnection,
  SourceQueryError,
} from '../port.js';

/** Datadog's US1 site; other sites (EU, US3, US5, AP1, Gov) are given as connectionDetails.url. */
export const DATADOG_DEFAULT_URL = 'https://api.datadoghq.com';

type Sdk = typeof import('@datadog/datadog-api-client');

/** The status of a non-2xx answer as a SourceQueryError (headers lower case). */
export function classifyDatadogStatus(
  status: number,
  headers: Readonly<Record<string, string | undefined>>,
  shownUrl: string,
): SourceQueryError {
  const answered = describeStatus(status);
  if (status === 401 || status === 403)
    return new SourceQueryError(
      'unauthorized',
      `${shownUrl} refused the API or application key (${answered}); the application key needs the timeseries_query scope`,
      status,
    );
  if (status === 429) {
    // X-RateLimit-Reset: seconds until the limit's period starts again (docs "Rate Limits").
    const reset = headers['x-ratelimit-reset'];
    const seconds = reset !== undefined && /^\d+$/.test(reset.trim()) ? Number(reset) : undefined;
    return new SourceQueryError(
      'rate_limited',
      `${shownUrl} is rate limiting metric queries (${answered}${seconds === undefined ? '' : `, resets in ${seconds} s`})`,
      status,
      seconds === undefined ? undefined : seconds * 1000,
    );
  }
  if (status >= 500)
    return new SourceQueryError('unavailable', `${shownUrl} could not answer (${answered})`, status);
  if (status === 400 || status === 404 || status === 422)
    return new SourceQueryError(
      'bad_query',
      `${shownUrl} refused the query (${answered}); try spec.query in a Datadog notebook to see why`,
      status,
    );
  return new SourceQueryError('bad_response', `${shownUrl} answered ${answered}`, status);
}

/**
 * The client's transport: undici with the egress dispatcher. A non-2xx answer is classified here,
 * where its headers are (the SDK's ApiException keeps only the status and the body).
 */
export class EgressHttpLibrary implements ddClient.HttpLibrary {
  constructor(
    private readonly sdk: Sdk,
    private readonly dispatcher: Agent,
    private readonly extraHeaders: Readonly<Record<string, string>>,
    private readonly timeoutMs: number,
    private readonly shownUrl: string,
  ) {}

  async send(context: ddClient.RequestContext): Promise<ddClient.ResponseContext> {
    const body = context.getBody();
    if (body !== undefined && typeof body !== 'string' && !Buffer.isBuffer(body))
      throw new SourceQueryError('bad_query', 'multipart bodies are not sent to Datadog');
    let status: number;
    let headers: Record<string, string>;
    let data: Buffer;
    try {
      const response = await request(context.getUrl(), {
        method: context.getHttpMethod(),
        dispatcher: this.dispatcher,
        headers: { ...this.extraHeaders, ...context.getHeaders() },
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      status = response.statusCode;
      headers = {};
      for (const [name, value] of Object.entries(response.headers))
        if (value !== undefined)
          headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
      data = Buffer.from(await response.body.arrayBuffer());
    } catch (error) {
      throw transportFailure(error, this.shownUrl, this.timeoutMs);
    }
    if (status < 200 || status > 299) throw classifyDatadogStatus(status, headers, this.shownUrl);
    return new this.sdk.client.ResponseContext(
      status,
      headers,
      new this.sdk.client.SelfDecodingBody(Promise.resolve(data)),
    );
  }
}

/**
 * A query answer's series as minute series: points without a value (Datadog's `null`, a minute
 * without data) are left out, timestamps (the start of each rollup interval, ms) are kept within
 * the range, and a series rolled up at another interval than 60 s (Datadog coarsens the rollup of
 * long ranges) is refused rather than read as minutes. Exported for tests.
 */
export function datadogMinutes(
  answer: Pick<ddV1.MetricsQueryResponse, 'status' | 'series'>,
  range: MinuteRange,
  shownUrl: string,
): MinuteSeries[] {
  // The SDK hands back a body it could not parse as it is (a string) or marked `_unparsed`: a 200
  // that is not a query result must not read as "no series", i.e. no data without an error.
  if (
    typeof answer !== 'object' ||
    answer === null ||
    typeof answer.status !== 'string' ||
    (answer as { _unparsed?: unknown })._unparsed
  )
    throw new SourceQueryError(
      'bad_response',
      `${shownUrl} answered a body that is not a Datadog query result`,
    );
  if (answer.status !== 'ok')
    throw new SourceQueryError(
      'bad_query',
      `${shownUrl} answered the query with status "${/^[a-z_]{1,16}$/.test(answer.status) ? answer.status : 'error'}"; try spec.query in a Datadog notebook to see why`,
    );
  if (answer.series !== undefined && !Array.isArray(answer.series))
    throw new SourceQueryError(
      'bad_response',
      `${shownUrl} answered JSON that is not a Datadog query result`,
    );
  return (answer.series ?? []).map((series) => {
    if (series.interval !== undefined && series.interval !== 60)
      throw new SourceQueryError(
        'bad_response',
        `${shownUrl} rolled the series up every ${Number(series.interval)} s instead of 60 s (chunkMinutes too large?)`,
      );
    const points: Array<readonly [number, number]> = [];
    for (const point of (series.pointlist ?? []) as unknown[]) {
      if (!Array.isArray(point) || point.length < 2)
        throw new SourceQueryError('bad_response', `${shownUrl} answered a point that is not [ms, value]`);
      const [ms, value] = point as [unknown, unknown];
      if (typeof ms !== 'number' || !Number.isFinite(ms))
        throw new SourceQueryError('bad_response', `${shownUrl} answered a point without a timestamp`);
      if (value === null || value === undefined) continue;
      if (typeof value !== 'number')
        throw new SourceQueryError(
          'bad_response',
          `${shownUrl} answered a point whose value is not a number`,
        );
      const minuteMs = Math.floor(ms / MINUTE_MS) * MINUTE_MS;
      if (minuteMs < range.fromMs || minuteMs >= range.toMs) continue;
      points.push([minuteMs, value]);
    }
    const labels: Record<string, string> = {};
    for (const tag of series.tagSet ?? []) {
      const colon = tag.indexOf(':');
      if (colon > 0) labels[tag.slice(0, colon)] = tag.slice(colon + 1);
      else labels[tag] = '';
    }
    if (series.metric) labels.__name__ = series.metric;
    return { labels, points };
  });
}

export class DatadogClient implements SourceClient {
  private readonly api: ddV1.MetricsApi;
  private readonly shownUrl: string;

  constructor(
    sdk: Sdk,
    private readonly dispatcher: Agent,
    connection: SourceConnection & { readonly url: string },
  ) {
    this.shownUrl = describeUrl(connection.url);
    const httpApi = new EgressHttpLibrary(
      sdk,
      dispatcher,
      connection.headers,
      connection.timeoutMs,
      this.shownUrl,
    );
    const configuration = sdk.client.createConfiguration({
      // Keys from the connection only: never DD_API_KEY/DD_SITE of Shinrai's own environment.
      authMethods: { apiKeyAuth: connection.credentials.apiKey!, appKeyAuth: connection.credentials.appKey! },
      baseServer: new sdk.client.BaseServerConfiguration(connection.url, {}),
      httpApi,
      // The pull loop retries (with backoff and the rate-limit wait); the client must not as well.
      enableRetry: false,
      debug: false,
    });
    this.api = new sdk.v1.MetricsApi(configuration);
  }

  /** The minutes of `range`: from and to in seconds; each point already stamps its minute's start. */
  async fetchMinutes(query: string, range: MinuteRange): Promise<MinuteSeries[]> {
    let answer: ddV1.MetricsQueryResponse;
    try {
      answer = await this.api.queryMetrics({ from: range.fromMs / 1000, to: range.toMs / 1000, query });
    } catch (error) {
      if (error instanceof SourceQueryError) throw error;
      // The SDK could not read a 2xx body (not JSON, not its model): its message may quote the body.
      throw new SourceQueryError(
        'bad_response',
        `${this.shownUrl} answered a body that is not a Datadog query result`,
      );
    }
    return datadogMinutes(answer, range, this.shownUrl);
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}

/** Builds a Datadog client: the SDK is imported on first use only. */
export async function connectDatadog(connection: SourceConnection): Promise<DatadogClient> {
  const url = connection.url ?? DATADOG_DEFAULT_URL;
  const { apiKey, appKey } = connection.credentials;
  if (!apiKey || !appKey) throw new Error('a Datadog connection needs apiKey and appKey (docs/sources.md)');
  const sdk = await import('@datadog/datadog-api-client');
  // The SDK's own logger prints parse errors that quote response bodies when DEBUG is set in the
  // environment; Shinrai reports failures itself (classified, without bodies).
  sdk.logger.setLevel('silent');
  const dispatcher = sourceAgent('datadog', connection);
  return new DatadogClient(sdk, dispatcher, { ...connection, url });
}
