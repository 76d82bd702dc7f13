/**
 * OTLP exports from a team-scoped token (docs/api.md#teams) on both databases: an export whose
 * points feed only its team's SLIs is stored; one with a point for another team's SLI is refused
 * whole (403 problem+json, or a google.rpc.Status PERMISSION_DENIED for protobuf) and stores nothing.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../src/platform/auth/index.js';
import { DIALECTS } from './support/databases.js';
import { json, startTestServer, type TestServer } from './support/server.js';

const sloOf = (service: string, team: string) => `
apiVersion: openslo/v1
kind: Service
metadata: {name: ${service}, annotations: {shinrai.dev/owner: ${team}}}
spec: {}
---
apiVersion: openslo/v1
kind: SLO
metadata: {name: ${service}-orders}
spec:
  service: ${service}
  indicator:
    metadata: {name: ${service}-orders}
    spec:
      ratioMetric:
        counter: true
        bad:
          metricSource:
            metricSourceRef: otel
            spec: {metric: orders.processed, resource: {service.name: ${service}}, attributes: {outcome: failed}}
        total:
          metricSource: {metricSourceRef: otel, spec: {metric: orders.processed, resource: {service.name: ${service}}}}
  timeWindow: [{duration: 1d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{target: 0.9}]
`;

const SPECS = `
apiVersion: openslo/v1
kind: DataSource
metadata: {name: otel}
spec: {type: OpenTelemetry, connectionDetails: {}}
---
${sloOf('checkout', 'team-payments')}
---
${sloOf('search', 'team-discovery')}
`;

/** One export of `orders.processed` sums from the given services (a fresh series each time). */
let series = 0;
function exportOf(services: readonly string[]) {
  const nowNs = BigInt(Date.now()) * 1_000_000n;
  const run = `run-${++series}`;
  return {
    resourceMetrics: services.map((service) => ({
      resource: {
        attributes: [
          { key: 'service.name', value: { stringValue: service } },
          { key: 'service.instance.id', value: { stringValue: run } },
        ],
      },
      scopeMetrics: [
        {
          metrics: [
            {
              name: 'orders.processed',
              sum: {
                aggregationTemporality: 2,
                isMonotonic: true,
                dataPoints: [
                  {
                    attributes: [{ key: 'outcome', value: { stringValue: 'ok' } }],
                    startTimeUnixNano: String(nowNs - 60_000_000_000n),
                    timeUnixNano: String(nowNs),
                    asInt: '5',
                  },
                ],
              },
            },
          ],
        },
      ],
    })),
  };
}

describe.each(DIALECTS)('OTLP exports of a team-scoped token on %s', (dialect) => {
  let server: TestServer;
  let dir: string;
  let payments: string;
  let admin: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'shinrai-otlp-teams-'));
    writeFileSync(join(dir, 'orders.yaml'), SPECS);
    server = await startTestServer(dialect, { specs: dir });
    payments = (
      await createToken(server.shinrai.ctx, {
        name: 'payments-otel',
        role: 'editor',
        teams: ['team-payments'],
      })
    ).token;
    admin = await server.token('admin');
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = (token: string, body: unknown) =>
    fetch(`${server.shinrai.url}/v1/metrics`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const seriesCount = async () =>
    (await server.shinrai.ctx.db.kysely.selectFrom('otlp_series').selectAll().execute()).length;

  it("stores an export of its own team's services", async () => {
    const before = await seriesCount();
    const response = await post(payments, exportOf(['checkout']));
    expect(response.status).toBe(200);
    expect(await seriesCount()).toBeGreaterThan(before);
  });

  it("refuses an export with a point for another team's SLI, storing nothing of it", async () => {
    const before = await seriesCount();
    const response = await post(payments, exportOf(['checkout', 'search']));
    expect(response.status).toBe(403);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect((await json(response)).detail).toMatch(
      /needs editor rights on team team-discovery \(service search\); your teams: team-payments/,
    );
    expect(await seriesCount()).toBe(before);
    // An admin's export of the same services is stored.
    expect((await post(admin, exportOf(['checkout', 'search']))).status).toBe(200);
    expect(await seriesCount()).toBeGreaterThan(before);
  });

  it('answers a protobuf export PERMISSION_DENIED (google.rpc.Status code 7)', async () => {
    const response = await fetch(`${server.shinrai.url}/v1/metrics`, {
      method: 'POST',
      headers: { authorization: `Bearer ${payments}`, 'content-type': 'application/x-protobuf' },
      body: REQUEST.encode(REQUEST.fromObject(exportOf(['search']))).finish(),
    });
    expect(response.status).toBe(403);
    expect(response.headers.get('content-type')).toMatch(/application\/x-protobuf/);
    const status = STATUS.toObject(STATUS.decode(new Uint8Array(await response.arrayBuffer())));
    expect(status).toMatchObject({ code: 7, message: expect.stringMatching(/team-discovery/) });
  });
});

/** What this test sends and reads of the OTLP protobuf messages (sums only) and google.rpc.Status. */
const PROTO = protobuf.parse(`
syntax = "proto3";
package t;
message Req { repeated RM resource_metrics = 1; }
message RM { Res resource = 1; repeated SM scope_metrics = 2; }
message Res { repeated KV attributes = 1; }
message SM { repeated Metric metrics = 2; }
message KV { string key = 1; AV value = 2; }
message AV { string string_value = 1; }
message Metric { string name = 1; Sum sum = 7; }
message Sum { repeated NDP data_points = 1; int32 aggregation_temporality = 2; bool is_monotonic = 3; }
message NDP { fixed64 start_time_unix_nano = 2; fixed64 time_unix_nano = 3; sfixed64 as_int = 6; repeated KV attributes = 7; }
message Status { int32 code = 1; string message = 2; }
`).root;
const REQUEST = PROTO.lookupType('t.Req');
const STATUS = PROTO.lookupType('t.Status');
