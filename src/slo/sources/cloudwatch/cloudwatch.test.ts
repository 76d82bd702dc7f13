import { describe, expect, it } from 'vitest';
import type { MetricSource } from '../../model.js';
import { classifyAwsError, defaultCloudWatchUrl } from './client.js';
import { parsePlanned, planCloudWatch } from './query.js';

const at = { file: 'slo.yaml', line: 3, column: 5 };
const metric = (spec: Record<string, unknown>): MetricSource => ({ type: 'CloudWatch', spec, location: at });
const url = 'https://monitoring.eu-west-1.amazonaws.com';

describe('planCloudWatch', () => {
  it('plans a MetricStat with Period 60 as stable JSON (dimensions sorted, list or map)', () => {
    const asList = planCloudWatch(
      metric({
        namespace: 'AWS/ApplicationELB',
        metricName: 'RequestCount',
        stat: 'Sum',
        dimensions: [
          { name: 'TargetGroup', value: 'tg/1' },
          { name: 'LoadBalancer', value: 'app/web/1' },
        ],
      }),
      false,
    );
    const asMap = planCloudWatch(
      metric({
        stat: 'Sum',
        dimensions: { LoadBalancer: 'app/web/1', TargetGroup: 'tg/1' },
        metricName: 'RequestCount',
        namespace: 'AWS/ApplicationELB',
      }),
      false,
    );
    expect(asList).toEqual(asMap);
    expect(parsePlanned((asList as { query: string }).query)).toEqual({
      Id: 'm0',
      MetricStat: {
        Metric: {
          Namespace: 'AWS/ApplicationELB',
          MetricName: 'RequestCount',
          Dimensions: [
            { Name: 'LoadBalancer', Value: 'app/web/1' },
            { Name: 'TargetGroup', Value: 'tg/1' },
          ],
        },
        Period: 60,
        Stat: 'Sum',
      },
      ReturnData: true,
    });
  });

  it('plans Metrics Insights sql and expressions as an Expression with Period 60', () => {
    const sql = 'SELECT SUM(RequestCount) FROM SCHEMA("AWS/ApplicationELB", LoadBalancer)';
    expect(parsePlanned((planCloudWatch(metric({ sql }), false) as { query: string }).query)).toEqual({
      Id: 'm0',
      Expression: sql,
      Period: 60,
      ReturnData: true,
    });
    expect(
      planCloudWatch(metric({ expression: "SEARCH('{AWS/ELB} RequestCount', 'Sum')" }), false),
    ).toHaveProperty('query');
  });

  it('explains what can never work', () => {
    const problem = (spec: Record<string, unknown>, counter = false) =>
      (planCloudWatch(metric(spec), counter) as { problem?: string }).problem;
    expect(problem({})).toMatch(/needs namespace, metricName and stat/);
    expect(problem({ namespace: 'A', metricName: 'B' })).toMatch(/spec\.stat/);
    expect(problem({ namespace: 'A', metricName: 'B', stat: 'Summ' })).toMatch(/not "Summ"/);
    expect(problem({ namespace: 'A', metricName: 'B', stat: 'Sum', period: 300 })).toMatch(
      /period must be 60/,
    );
    expect(problem({ namespace: 'A', metricName: 'B', stat: 'Sum', sql: 'SELECT 1' })).toMatch(/not several/);
    expect(problem({ namespace: 'A', metricName: 'B', stat: 'Sum', dimensions: [{ name: 'x' }] })).toMatch(
      /dimensions/,
    );
    expect(problem({ namespace: 'A', metricName: 'B', stat: 'Sum' }, true)).toMatch(/counter: true/);
    expect(problem({ namespace: 'A', metricName: 'B', stat: 'p99' })).toBeUndefined();
  });
});

describe('classifyAwsError', () => {
  const meta = (status: number) => ({ $metadata: { httpStatusCode: status } });
  it('classifies by error code and status, never quoting the message', () => {
    const throttled = classifyAwsError(
      { name: 'Throttling', message: 'Rate exceeded secret', ...meta(400) },
      url,
      5000,
    );
    expect(throttled).toMatchObject({ reason: 'rate_limited', status: 400 });
    expect(throttled.message).not.toContain('secret');
    expect(classifyAwsError({ name: 'InvalidClientTokenId', ...meta(403) }, url, 5000).reason).toBe(
      'unauthorized',
    );
    expect(classifyAwsError({ name: 'InvalidParameterValue', ...meta(400) }, url, 5000).reason).toBe(
      'bad_query',
    );
    expect(
      classifyAwsError({ name: 'InternalServiceFault', $fault: 'server', ...meta(500) }, url, 5000).reason,
    ).toBe('unavailable');
    expect(classifyAwsError({ name: 'SyntaxError', ...meta(200) }, url, 5000).reason).toBe('bad_response');
  });

  it('classifies transport failures by kind', () => {
    expect(
      classifyAwsError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }), url, 5000),
    ).toMatchObject({
      reason: 'unreachable',
      message: `${url} unreachable: connection refused`,
    });
    expect(classifyAwsError(Object.assign(new Error('t'), { name: 'TimeoutError' }), url, 5000).reason).toBe(
      'timeout',
    );
  });

  it('defaults the endpoint to the region', () => {
    expect(defaultCloudWatchUrl('ap-northeast-1')).toBe('https://monitoring.ap-northeast-1.amazonaws.com');
  });
});

describe('CloudWatch egress', () => {
  it('sends the SDK request through the egress dispatcher: a refused address is an egress failure', async () => {
    const { Egress, parseEgressAllow } = await import('../../../platform/egress.js');
    const { cloudWatchSource } = await import('./index.js');
    const parsed = parseEgressAllow(['monitoring.example.com']);
    if (!parsed.ok) throw new Error('policy');
    const client = await cloudWatchSource.connect({
      url: 'http://127.0.0.1:9',
      headers: {},
      timeoutMs: 5000,
      credentials: { region: 'eu-west-1', accessKeyId: 'AKIAEGRESS', secretAccessKey: 'not-sent' },
      egress: new Egress(parsed.policy),
    });
    const planned = planCloudWatch(metric({ namespace: 'A', metricName: 'B', stat: 'Sum' }), false);
    const error = await client
      .fetchMinutes((planned as { query: string }).query, { fromMs: 0, toMs: 60_000 })
      .catch((e: unknown) => e);
    await client.close();
    expect(error).toMatchObject({
      reason: 'egress',
      message: expect.stringMatching(/^egress refused: 127\.0\.0\.1/),
    });
  });
});

/** A loopback listener that accepts connections and never answers. */
async function hungServer(): Promise<{ port: number; close: () => void }> {
  const { createServer } = await import('node:net');
  const sockets: Array<{ destroy(): void }> = [];
  const server = createServer((socket) => void sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

describe('CloudWatch timeouts', () => {
  it('gives up on a server that never answers: a timeout, retried by the pull loop', async () => {
    const { Egress, parseEgressAllow } = await import('../../../platform/egress.js');
    const { cloudWatchSource } = await import('./index.js');
    const hung = await hungServer();
    const parsed = parseEgressAllow([]);
    if (!parsed.ok) throw new Error('policy');
    const client = await cloudWatchSource.connect({
      url: `http://127.0.0.1:${hung.port}`,
      headers: {},
      timeoutMs: 300,
      credentials: { region: 'eu-west-1', accessKeyId: 'AKIAHUNG', secretAccessKey: 'x' },
      egress: new Egress(parsed.policy),
    });
    const planned = planCloudWatch(metric({ namespace: 'A', metricName: 'B', stat: 'Sum' }), false);
    const error = await client
      .fetchMinutes((planned as { query: string }).query, { fromMs: 0, toMs: 60_000 })
      .catch((e: unknown) => e);
    await client.close();
    hung.close();
    expect(error).toMatchObject({
      reason: 'timeout',
      retryable: true,
      message: expect.stringMatching(/did not answer within 0\.3 s$/),
    });
  });
});

describe('CloudWatch temporary credentials', () => {
  it('sends sessionToken as X-Amz-Security-Token, signed with the key id', async () => {
    const { createServer } = await import('node:http');
    const { Egress, parseEgressAllow } = await import('../../../platform/egress.js');
    const { cloudWatchSource } = await import('./index.js');
    const seen: Array<Record<string, string | string[] | undefined>> = [];
    const server = createServer((request, response) => {
      seen.push(request.headers);
      request.resume();
      response.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
      response.end(JSON.stringify({ MetricDataResults: [], Messages: [] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const parsed = parseEgressAllow([]);
    if (!parsed.ok) throw new Error('policy');
    const client = await cloudWatchSource.connect({
      url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
      headers: {},
      timeoutMs: 5000,
      credentials: {
        region: 'eu-west-1',
        accessKeyId: 'ASIATEMPORARY',
        secretAccessKey: 'x',
        sessionToken: 'session-token-value',
      },
      egress: new Egress(parsed.policy),
    });
    const planned = planCloudWatch(metric({ namespace: 'A', metricName: 'B', stat: 'Sum' }), false);
    await client.fetchMinutes((planned as { query: string }).query, { fromMs: 0, toMs: 60_000 });
    await client.close();
    server.close();
    expect(seen[0]?.['x-amz-security-token']).toBe('session-token-value');
    expect(String(seen[0]?.authorization)).toContain('Credential=ASIATEMPORARY/');
    expect(String(seen[0]?.authorization)).toContain('x-amz-security-token');
  });
});
