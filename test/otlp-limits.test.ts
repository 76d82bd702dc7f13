/**
 * The OTLP receiver's edges on SQLite and PostgreSQL: on a port of its own (`otlp.port`), a body
 * over `otlp.maxBodyBytes` once decompressed (a gzip bomb) answered 413, and a database held by
 * another writer answered 503 with Retry-After, the export stored once when the sender retries;
 * and PostgreSQL cut off (behind a TCP relay the test closes) answered 503, never 500, which OTLP
 * senders would drop.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import protobuf from 'protobufjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, DIALECTS } from './support/databases.js';
import { PgRelay as Relay } from './support/pg-relay.js';
import { startTestServer, type TestServer } from './support/server.js';

const SPECS = `
apiVersion: openslo/v1
kind: Service
metadata: {name: shop}
spec: {}
---
apiVersion: openslo/v1
kind: DataSource
metadata: {name: otel}
spec: {type: OpenTelemetry, connectionDetails: {}}
---
apiVersion: openslo/v1
kind: SLO
metadata: {name: orders}
spec:
  service: shop
  indicator:
    metadata: {name: orders-processed}
    spec:
      ratioMetric:
        counter: true
        bad: {metricSource: {metricSourceRef: otel, spec: {metric: orders.processed, attributes: {outcome: failed}}}}
        total: {metricSource: {metricSourceRef: otel, spec: {metric: orders.processed}}}
  timeWindow: [{duration: 1d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{target: 0.9}]
`;

const MAX_BODY_BYTES = 256 * 1024;
/** The key of the receiver's writers' lock on PostgreSQL ("otlp"). */
const OTLP_LOCK_KEY = 0x6f746c70;
const StatusType = protobuf
  .parse('syntax = "proto3"; message Status { int32 code = 1; string message = 2; }')
  .root.lookupType('Status');

/** A delta export of `orders.processed`: `failed` and `ok` orders at one instant. */
function ordersExport(failed: number, ok: number, timeMs: number): string {
  const point = (outcome: string, n: number) => ({
    attributes: [{ key: 'outcome', value: { stringValue: outcome } }],
    startTimeUnixNano: String(BigInt(timeMs - 10_000) * 1_000_000n),
    timeUnixNano: String(BigInt(timeMs) * 1_000_000n),
    asInt: String(n),
  });
  return JSON.stringify({
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'shop' } }] },
        scopeMetrics: [
          {
            metrics: [
              {
                name: 'orders.processed',
                sum: {
                  aggregationTemporality: 1,
                  isMonotonic: true,
                  dataPoints: [point('failed', failed), point('ok', ok)],
                },
              },
            ],
          },
        ],
      },
    ],
  });
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe.each(DIALECTS)('OTLP receiver limits on %s', (dialect) => {
  let server: TestServer;
  let token: string;
  let dir: string;
  let otlpUrl: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'shinrai-otlp-limits-'));
    writeFileSync(join(dir, 'shop.yaml'), SPECS);
    const port = await freePort();
    server = await startTestServer(dialect, {
      specs: dir,
      config: { 'otlp.port': port, 'otlp.maxBodyBytes': MAX_BODY_BYTES },
    });
    otlpUrl = `http://127.0.0.1:${port}/v1/metrics`;
    token = await server.token('editor');
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Each test starts with no minutes (the raw sums of the receiver included). */
  const reset = async () => {
    await server.shinrai.ctx.db.kysely.deleteFrom('sli_minutes').execute();
    await server.shinrai.ctx.db.kysely.deleteFrom('otlp_minutes').execute();
  };
  const stored = async () => {
    const rows = await server.shinrai.ctx.db.kysely
      .selectFrom('sli_minutes')
      .select(['good', 'total'])
      .where('sli', '=', 'orders-processed')
      .execute();
    return rows.reduce((a, r) => ({ good: a.good + Number(r.good), total: a.total + Number(r.total) }), {
      good: 0,
      total: 0,
    });
  };
  const post = (body: string | Uint8Array, headers: Record<string, string> = {}, bearer = token) =>
    fetch(otlpUrl, {
      method: 'POST',
      headers: {
        ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
        'content-type': 'application/json',
        ...headers,
      },
      body,
    });

  it('receives on otlp.port with the same tokens, and not on the API port', async () => {
    await reset();
    expect((await post(ordersExport(1, 1, Date.now()), {}, '')).status).toBe(401);
    const onApiPort = await fetch(`${server.shinrai.url}/v1/metrics`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: ordersExport(1, 1, Date.now()),
    });
    expect(onApiPort.status).toBe(404);
    const response = await post(ordersExport(2, 5, Date.now()));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({});
    expect(await stored()).toEqual({ good: 5, total: 7 });
  });

  it('answers 413 to a gzip bomb (limit on the decompressed size) and to a body over the limit, storing nothing', async () => {
    await reset();
    // 64 MiB of zeros: about 64 KiB gzip'd, under the limit on the wire.
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(MAX_BODY_BYTES);
    const proto = await post(bomb, { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' });
    expect(proto.status).toBe(413);
    expect(proto.headers.get('content-type')).toMatch(/application\/x-protobuf/);
    const status = StatusType.toObject(StatusType.decode(new Uint8Array(await proto.arrayBuffer()))) as {
      code: number;
      message: string;
    };
    expect(status.code).toBe(3); // INVALID_ARGUMENT: not retryable
    expect(status.message).toBe(
      `the body is larger than ${MAX_BODY_BYTES} bytes once decompressed (otlp.maxBodyBytes)`,
    );
    const jsonBomb = await post(bomb, { 'content-encoding': 'gzip' });
    expect(jsonBomb.status).toBe(413);
    expect(jsonBomb.headers.get('content-type')).toMatch(/problem\+json/);
    const tooBig = await post(`${ordersExport(1, 1, Date.now())}${' '.repeat(MAX_BODY_BYTES)}`);
    expect(tooBig.status).toBe(413);
    expect(await stored()).toEqual({ good: 0, total: 0 });
    // The receiver still works after them.
    expect((await post(ordersExport(0, 3, Date.now()))).status).toBe(200);
    expect(await stored()).toEqual({ good: 3, total: 3 });
  }, 60_000);

  it('answers 503 with Retry-After while another writer holds the database, and stores the retried export once', async () => {
    await reset();
    const body = ordersExport(4, 6, Date.now());
    // Another writer: a second SQLite connection holding the write lock, or a PostgreSQL session
    // holding the receiver's writers' lock.
    let release: () => Promise<void>;
    if (dialect === 'sqlite') {
      const other = new SQLite(server.database.url);
      other.exec('BEGIN IMMEDIATE');
      release = async () => {
        other.exec('ROLLBACK');
        other.close();
      };
    } else {
      const other = new pg.Client({ connectionString: server.database.url });
      await other.connect();
      await other.query('select pg_advisory_lock($1)', [OTLP_LOCK_KEY]);
      release = async () => {
        await other.query('select pg_advisory_unlock($1)', [OTLP_LOCK_KEY]);
        await other.end();
      };
    }
    let busy: Response;
    try {
      busy = await post(body);
    } finally {
      await release();
    }
    expect(busy.status).toBe(503);
    expect(busy.headers.get('retry-after')).toBe('5');
    expect(busy.headers.get('content-type')).toMatch(/problem\+json/);
    expect(((await busy.json()) as { detail: string }).detail).toMatch(/the database is busy/);
    expect(await stored()).toEqual({ good: 0, total: 0 });
    expect(await server.shinrai.ctx.metrics.otlpExports.get()).toMatchObject({
      values: expect.arrayContaining([expect.objectContaining({ labels: { outcome: 'unavailable' } })]),
    });
    // The sender retries the same export: counted once.
    expect((await post(body)).status).toBe(200);
    expect((await post(body)).status).toBe(200);
    expect(await stored()).toEqual({ good: 6, total: 10 });
  }, 60_000);
});

describe('OTLP receiver with its PostgreSQL cut off', () => {
  it('answers 503 with Retry-After (not 500, which a sender drops), naming no host, then stores the retried export once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shinrai-otlp-down-'));
    writeFileSync(join(dir, 'shop.yaml'), SPECS);
    const database = await createTestDatabase('postgres');
    const relay = new Relay();
    await relay.open();
    const url = new URL(database.url);
    url.hostname = '127.0.0.1';
    url.port = String(relay.port);
    const server = await startTestServer('postgres', {
      specs: dir,
      database: { ...database, url: url.toString() },
    });
    try {
      const token = await server.token('editor');
      const post = (body: string, headers: Record<string, string> = {}) =>
        fetch(`${server.shinrai.url}/v1/metrics`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
          body,
        });
      const body = ordersExport(1, 9, Date.now());
      await relay.cut();
      for (const protobufRequest of [false, true]) {
        // An empty protobuf body is an empty export: the token check alone meets the database.
        const down = protobufRequest
          ? await post('', { 'content-type': 'application/x-protobuf' })
          : await post(body);
        expect(down.status).toBe(503);
        expect(down.headers.get('retry-after')).toBe('5');
        const bytes = Buffer.from(await down.arrayBuffer());
        const text = bytes.toString('latin1');
        expect(text).toContain('the database is unreachable; retry the export later');
        expect(text).not.toContain(String(relay.port));
        expect(text).not.toContain('ECONNREFUSED');
        if (protobufRequest)
          expect(StatusType.toObject(StatusType.decode(bytes)).code).toBe(14); // UNAVAILABLE
        else expect(down.headers.get('content-type')).toMatch(/problem\+json/);
      }
      await relay.open();
      expect((await post(body)).status).toBe(200);
      expect((await post(body)).status).toBe(200);
      const rows = await server.shinrai.ctx.db.kysely
        .selectFrom('sli_minutes')
        .select(['good', 'total'])
        .where('sli', '=', 'orders-processed')
        .execute();
      expect(rows.map((r) => [Number(r.good), Number(r.total)])).toEqual([[9, 10]]);
    } finally {
      await server.close();
      await relay.cut();
      await database.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
