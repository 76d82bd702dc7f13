/**
 * Amazon CloudWatch through the official `@aws-sdk/client-cloudwatch` (GetMetricData, SigV4), its
 * HTTP given to undici with the egress dispatcher (EgressRequestHandler) so `egress.allow` applies.
 * Reads one planned MetricDataQuery (Period 60) for a range, following `NextToken`; CloudWatch
 * stamps each value with the start of its period, which is the minute start Shinrai files it under.
 * The SDK's own retries are off: the pull loop retries and backs off.
 */
import type {
  CloudWatchClient as AwsCloudWatchClient,
  GetMetricDataCommand,
  GetMetricDataCommandOutput,
} from '@aws-sdk/client-cloudwatch';
import type { HttpHandlerOptions, HttpRequest, HttpResponse } from '@smithy/types';
import { type Agent, request } from 'undici';
import { describeStatus, describeUrl } from '../../../platform/remote-error.js';
import { sourceAgent, transportFailure } from '../http.js';
import {
  MINUTE_MS,
  type MinuteRange,
  type MinuteSeries,
  type SourceClient,
  type SourceConnection,
  type SourceFailureReason,
  SourceQueryError,
} from '../port.js';
import { parsePlanned, QUERY_ID } from './query.js';

/** Pages of one range at most: a guard against a server that keeps answering with a NextToken. */
const MAX_PAGES = 1000;

export function defaultCloudWatchUrl(region: string | undefined): string | undefined {
  return region ? `https://monitoring.${region}.amazonaws.com` : undefined;
}

/**
 * The SDK's HTTP handler, on undici's `request` with the egress dispatcher: the SDK signs the
 * request, this sends it and hands back the whole body.
 */
export class EgressRequestHandler {
  readonly metadata = { handlerProtocol: 'http/1.1' };

  constructor(
    private readonly dispatcher: Agent,
    private readonly timeoutMs: number,
  ) {}

  async handle(req: HttpRequest, options: HttpHandlerOptions = {}): Promise<{ response: HttpResponse }> {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(req.query ?? {}))
      for (const v of Array.isArray(value) ? value : [value]) query.append(key, v ?? '');
    const search = query.toString();
    const port = req.port ? `:${req.port}` : '';
    const url = `${req.protocol}//${req.hostname}${port}${req.path}${search ? `?${search}` : ''}`;
    const signals = [AbortSignal.timeout(this.timeoutMs)];
    if (options.abortSignal && 'addEventListener' in options.abortSignal)
      signals.push(options.abortSignal as AbortSignal);
    const response = await request(url, {
      method: req.method as 'POST',
      dispatcher: this.dispatcher,
      headers: req.headers,
      body: req.body as string | Uint8Array | undefined,
      signal: AbortSignal.any(signals),
    });
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(response.headers))
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    const body = new Uint8Array(await response.body.arrayBuffer());
    return { response: { statusCode: response.statusCode, headers, body } };
  }

  updateHttpClientConfig(): void {}

  httpHandlerConfigs(): Record<string, never> {
    return {};
  }

  destroy(): void {}
}

export class CloudWatchClient implements SourceClient {
  private readonly dispatcher: Agent;
  private readonly shownUrl: string;
  private readonly sdk: Promise<{ client: AwsCloudWatchClient; Command: typeof GetMetricDataCommand }>;

  constructor(private readonly connection: SourceConnection) {
    const { region, accessKeyId, secretAccessKey, sessionToken } = connection.credentials;
    if (!region) throw new Error('connectionDetails.region (the AWS region, e.g. eu-west-1) is required');
    if (!accessKeyId || !secretAccessKey)
      throw new Error('connectionDetails.accessKeyId and secretAccessKey are required');
    const url = connection.url ?? defaultCloudWatchUrl(region)!;
    this.shownUrl = describeUrl(url);
    this.dispatcher = sourceAgent('cloudwatch', connection);
    const handler = new EgressRequestHandler(this.dispatcher, connection.timeoutMs);
    // The SDK is large: loaded when a CloudWatch DataSource is first used.
    this.sdk = import('@aws-sdk/client-cloudwatch').then((sdk) => ({
      client: new sdk.CloudWatchClient({
        region,
        endpoint: url,
        // sessionToken: temporary credentials (an assumed role, SSO), which expire; rotate the variable.
        credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) },
        maxAttempts: 1,
        requestHandler: handler,
      }),
      Command: sdk.GetMetricDataCommand,
    }));
  }

  async fetchMinutes(query: string, range: MinuteRange): Promise<MinuteSeries[]> {
    const planned = parsePlanned(query);
    const { client, Command } = await this.sdk;
    const points = new Map<
      string,
      { labels: Record<string, string>; points: Array<readonly [number, number]> }
    >();
    let nextToken: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      let output: GetMetricDataCommandOutput;
      try {
        output = await client.send(
          new Command({
            MetricDataQueries: [planned as never],
            StartTime: new Date(range.fromMs),
            EndTime: new Date(range.toMs),
            ScanBy: 'TimestampAscending',
            NextToken: nextToken,
          }),
        );
      } catch (error) {
        throw classifyAwsError(error, this.shownUrl, this.connection.timeoutMs);
      }
      for (const result of output.MetricDataResults ?? []) {
        if (result.Id !== QUERY_ID) continue;
        const status = result.StatusCode ?? 'Complete';
        const codes = messageCodes([...(result.Messages ?? []), ...(output.Messages ?? [])]);
        if (status === 'InternalError')
          throw new SourceQueryError(
            'unavailable',
            `${this.shownUrl}: CloudWatch answered InternalError${codes}`,
          );
        if (status === 'Forbidden')
          throw new SourceQueryError(
            'unauthorized',
            `${this.shownUrl}: CloudWatch answered Forbidden${codes}`,
          );
        // PartialData with a NextToken is the next page; without one (metric math) the values are incomplete.
        if (status === 'PartialData' && !output.NextToken)
          throw new SourceQueryError(
            'unavailable',
            `${this.shownUrl}: CloudWatch answered PartialData without a NextToken${codes}; the chunk is read again`,
          );
        const timestamps = result.Timestamps ?? [];
        const values = result.Values ?? [];
        if (timestamps.length !== values.length)
          throw new SourceQueryError(
            'bad_response',
            `${this.shownUrl}: Timestamps and Values differ in length`,
          );
        const key = result.Label ?? '';
        let s = points.get(key);
        if (!s) {
          s = { labels: result.Label ? { label: result.Label } : {}, points: [] };
          points.set(key, s);
        }
        for (let i = 0; i < timestamps.length; i++) {
          const ms = new Date(timestamps[i]!).getTime();
          const value = values[i]!;
          if (!Number.isFinite(ms) || typeof value !== 'number') continue;
          const minuteMs = Math.floor(ms / MINUTE_MS) * MINUTE_MS;
          if (minuteMs >= range.fromMs && minuteMs < range.toMs) s.points.push([minuteMs, value]);
        }
      }
      nextToken = output.NextToken || undefined;
      if (!nextToken) return [...points.values()];
    }
    throw new SourceQueryError(
      'bad_response',
      `${this.shownUrl}: more than ${MAX_PAGES} pages for one range`,
    );
  }

  async close(): Promise<void> {
    const { client } = await this.sdk.catch(() => ({ client: undefined }));
    client?.destroy();
    await this.dispatcher.close();
  }
}

/** Message codes (`MaxMetricsExceeded`…) in safe words: codes only, never their values. */
function messageCodes(messages: ReadonlyArray<{ Code?: string | undefined }>): string {
  const codes = [
    ...new Set(messages.map((m) => m.Code).filter((c): c is string => !!c && /^[A-Za-z]{1,64}$/.test(c))),
  ];
  return codes.length ? ` (${codes.join(', ')})` : '';
}

const THROTTLED = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'LimitExceeded',
  'LimitExceededException',
]);
const UNAUTHORIZED = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'ExpiredToken',
  'ExpiredTokenException',
  'MissingAuthenticationToken',
  'NotAuthorized',
]);

/**
 * What an SDK failure means: the service's error code (`Throttling` from the query-compatible
 * header, or the JSON `__type`) and HTTP status, or a transport failure by kind. Never the message.
 */
export function classifyAwsError(error: unknown, shownUrl: string, timeoutMs: number): SourceQueryError {
  const e = (error ?? {}) as {
    name?: string;
    Code?: string;
    $fault?: string;
    $metadata?: { httpStatusCode?: number };
    $response?: unknown;
  };
  const status = e.$metadata?.httpStatusCode;
  if (status === undefined) {
    return transportFailure(error, shownUrl, timeoutMs);
  }
  const code = [e.Code, e.name].find(
    (c): c is string => typeof c === 'string' && /^[A-Za-z.]{1,64}$/.test(c),
  );
  const answered = `${describeStatus(status)}${code ? `, ${code}` : ''}`;
  const fail = (reason: SourceFailureReason, words: string) =>
    new SourceQueryError(reason, `${shownUrl} ${words} (${answered})`, status);
  if (code && THROTTLED.has(code)) return fail('rate_limited', 'throttled the request');
  if (status === 401 || status === 403 || (code && UNAUTHORIZED.has(code)))
    return fail('unauthorized', 'refused the credentials');
  if (status === 429) return fail('rate_limited', 'throttled the request');
  if (status >= 500 || e.$fault === 'server') return fail('unavailable', 'could not answer');
  if (status >= 200 && status < 300)
    return fail('bad_response', 'answered with a body that is not a GetMetricData result');
  return fail('bad_query', 'refused the query; check the metric source against GetMetricData');
}
