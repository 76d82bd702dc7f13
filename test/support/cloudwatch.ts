/**
 * A local CloudWatch answering GetMetricData in the protocol the installed @aws-sdk/client-cloudwatch
 * speaks: AWS JSON 1.0 (`POST /`, `X-Amz-Target: GraniteServiceVersion20100801.GetMetricData`,
 * `Content-Type: application/x-amz-json-1.0`, timestamps as epoch seconds) with the query-compatible
 * error header (`x-amzn-query-error: Throttling;Sender`). It checks the SigV4 Authorization header
 * names the configured access key id, region and the `monitoring` service, and answers as the API
 * reference documents: `MetricDataResults` with period-start `Timestamps`, `StatusCode`
 * `PartialData` plus a `NextToken` while more pages follow, nothing at 1-minute resolution for
 * periods older than 15 days, 503 while "down", `Throttling` on demand.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export const CLOUDWATCH_SECRET = 'CLOUDWATCH-BODY-SECRET-77c4';
const TARGET = 'GraniteServiceVersion20100801.GetMetricData';
const FIFTEEN_DAYS_MS = 15 * 24 * 3600_000;

export interface GetMetricDataCall {
  /** The query's metric name, or its expression. */
  readonly metric: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly page: number;
}

export interface FakeCloudWatchOptions {
  readonly accessKeyId: string;
  readonly region: string;
  /** MetricName (or Expression) → the Sum of the minute starting at ms; undefined: no data point. */
  readonly metrics: Readonly<Record<string, (minuteMs: number) => number | undefined>>;
  /** "Now" for the 15-day retention of 1-minute data. */
  readonly now: () => number;
  /** Data points a page (CloudWatch: up to 100,800); small here to exercise NextToken. */
  readonly pageSize?: number;
}

export class FakeCloudWatch {
  readonly calls: GetMetricDataCall[] = [];
  /** Access key ids named by the Authorization headers received. */
  readonly keyIdsSeen: string[] = [];
  mode: 'up' | 'down' = 'up';
  throttled = 0;
  private server: Server | undefined;
  url = '';

  constructor(private readonly options: FakeCloudWatchOptions) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      req.on('end', () => {
        const send = (status: number, payload: unknown, headers: Record<string, string> = {}) =>
          res
            .writeHead(status, {
              'content-type': 'application/x-amz-json-1.0',
              'x-amzn-requestid': 'req-1',
              ...headers,
            })
            .end(JSON.stringify(payload));
        const error = (status: number, code: string, type: string, message: string) =>
          send(
            status,
            {
              __type: `com.amazonaws.cloudwatch#${code}Exception`,
              message: `${message} ${CLOUDWATCH_SECRET}`,
            },
            { 'x-amzn-query-error': `${code};${type}` },
          );
        if (req.method !== 'POST' || req.url !== '/' || req.headers['x-amz-target'] !== TARGET)
          return error(400, 'InvalidAction', 'Sender', 'unknown operation');
        if (req.headers['content-type'] !== 'application/x-amz-json-1.0')
          return error(400, 'InvalidParameterValue', 'Sender', 'content type');
        const auth =
          /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=[^,]+, Signature=[0-9a-f]{64}$/.exec(
            String(req.headers.authorization ?? ''),
          );
        if (auth) this.keyIdsSeen.push(auth[1]!);
        if (!auth || auth[1] !== this.options.accessKeyId || auth[4] !== 'monitoring')
          return send(
            403,
            { __type: 'com.amazon.coral.service#UnrecognizedClientException', message: CLOUDWATCH_SECRET },
            { 'x-amzn-query-error': 'InvalidClientTokenId;Sender' },
          );
        if (auth[3] !== this.options.region) return error(403, 'SignatureDoesNotMatch', 'Sender', 'region');
        if (this.mode === 'down')
          return send(503, { __type: 'ServiceUnavailable', message: CLOUDWATCH_SECRET });
        if (this.throttled > 0) {
          this.throttled--;
          return error(400, 'Throttling', 'Sender', 'Rate exceeded');
        }
        let input: {
          MetricDataQueries?: Array<{
            Id?: string;
            Expression?: string;
            Period?: number;
            MetricStat?: { Period?: number; Stat?: string; Metric?: { MetricName?: string } };
          }>;
          StartTime?: number;
          EndTime?: number;
          NextToken?: string;
          ScanBy?: string;
        };
        try {
          input = JSON.parse(body);
        } catch {
          return error(400, 'InvalidParameterValue', 'Sender', 'body');
        }
        const [query, ...more] = input.MetricDataQueries ?? [];
        if (!query || more.length || typeof input.StartTime !== 'number' || typeof input.EndTime !== 'number')
          return error(400, 'MissingRequiredParameter', 'Sender', 'MetricDataQueries, StartTime and EndTime');
        const metric = query.Expression ?? query.MetricStat?.Metric?.MetricName ?? '';
        const period = query.Expression ? query.Period : query.MetricStat?.Period;
        const values = this.options.metrics[metric];
        if (!values || period !== 60) return error(400, 'InvalidParameterValue', 'Sender', 'metric');
        const startMs = input.StartTime * 1000;
        const endMs = input.EndTime * 1000;
        const offset = input.NextToken ? Number(Buffer.from(input.NextToken, 'base64').toString()) : 0;
        this.calls.push({ metric, startMs, endMs, page: offset });
        const oldest = this.options.now() - FIFTEEN_DAYS_MS;
        const points: Array<[number, number]> = [];
        for (let ms = Math.max(startMs, Math.ceil(oldest / 60_000) * 60_000); ms < endMs; ms += 60_000) {
          const v = values(ms);
          if (v !== undefined) points.push([ms / 1000, v]);
        }
        const size = this.options.pageSize ?? 100_800;
        const page = points.slice(offset, offset + size);
        const next =
          offset + size < points.length ? Buffer.from(String(offset + size)).toString('base64') : undefined;
        return send(200, {
          MetricDataResults: [
            {
              Id: query.Id,
              Label: metric,
              Timestamps: page.map(([s]) => s),
              Values: page.map(([, v]) => v),
              StatusCode: next ? 'PartialData' : 'Complete',
              Messages: [],
            },
          ],
          ...(next ? { NextToken: next } : {}),
          Messages: [],
        });
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}
