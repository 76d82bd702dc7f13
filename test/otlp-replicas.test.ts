/**
 * The OTLP receiver's in-memory series states under several writers, on SQLite and PostgreSQL: two
 * Shinrai replicas on one database receive the points of the same cumulative series in turn (as
 * behind a load balancer), rows are deleted by hand, and a transaction fails after the states were
 * written; every time the stored minutes equal exactly what the series grew by.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from './support/databases.js';
import { startTestServer, type TestServer } from './support/server.js';

const SPECS = `
apiVersion: openslo/v1
kind: Service
metadata: {name: shop}
spec: {}
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
        bad: {metricSource: {type: OpenTelemetry, spec: {metric: orders.processed, attributes: {outcome: failed}}}}
        total: {metricSource: {type: OpenTelemetry, spec: {metric: orders.processed}}}
  timeWindow: [{duration: 1d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{target: 0.9}]
`;

/** One OTLP/JSON export: the cumulative counter of each outcome at a time. */
function exportOf(
  startMs: number,
  timeMs: number,
  values: { ok: number; failed: number },
  service = 'shop',
): string {
  const ns = (ms: number) => String(BigInt(ms) * 1_000_000n);
  const point = (outcome: string, value: number) => ({
    attributes: [{ key: 'outcome', value: { stringValue: outcome } }],
    startTimeUnixNano: ns(startMs),
    timeUnixNano: ns(timeMs),
    asInt: String(value),
  });
  return JSON.stringify({
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
        scopeMetrics: [
          {
            metrics: [
              {
                name: 'orders.processed',
                sum: {
                  aggregationTemporality: 2,
                  isMonotonic: true,
                  dataPoints: [point('ok', values.ok), point('failed', values.failed)],
                },
              },
            ],
          },
        ],
      },
    ],
  });
}

describe.each(DIALECTS)('OTLP series states with two replicas on %s', (dialect) => {
  let a: TestServer;
  let b: TestServer;
  let dir: string;
  let tokenA: string;
  let tokenB: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'shinrai-otlp-replicas-'));
    writeFileSync(join(dir, 'shop.yaml'), SPECS);
    a = await startTestServer(dialect, { specs: dir });
    b = await startTestServer(dialect, { specs: dir, database: a.database });
    tokenA = await a.token('editor');
    tokenB = tokenA; // one database, one token
  }, 60_000);
  afterAll(async () => {
    await b?.close();
    await a?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = async (server: TestServer, token: string, body: string) => {
    const response = await fetch(`${server.shinrai.url}/v1/metrics`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body,
    });
    return { status: response.status, body: await response.text() };
  };
  const stored = async () => {
    const rows = await a.shinrai.ctx.db.kysely
      .selectFrom('sli_minutes')
      .select(['good', 'total'])
      .where('sli', '=', 'orders-processed')
      .execute();
    return rows.reduce((s, r) => ({ good: s.good + Number(r.good), total: s.total + Number(r.total) }), {
      good: 0,
      total: 0,
    });
  };

  it('counts each increase once when the points of one series alternate between replicas, are retried on the other, or the rows are deleted', async () => {
    const startMs = Date.now() - 120_000;
    const values = { ok: 0, failed: 0 };
    let good = 0;
    let total = 0;
    // Replicas in turn, each export retried on the other one (already counted there).
    for (let i = 1; i <= 8; i++) {
      values.ok += 3 + i;
      values.failed += i % 3;
      good += 3 + i;
      total += 3 + i + (i % 3);
      const body = exportOf(startMs, startMs + i * 10_000, values);
      const [first, second] = i % 2 ? [a, b] : [b, a];
      const [firstToken, secondToken] = i % 2 ? [tokenA, tokenB] : [tokenB, tokenA];
      expect((await post(first, firstToken, body)).status).toBe(200);
      expect((await post(second, secondToken, body)).status).toBe(200);
      expect(await stored()).toEqual({ good, total });
    }
    // The states deleted by hand: the next point only sets a new baseline (its series started
    // long before), on both replicas, which had them in memory.
    await a.shinrai.ctx.db.kysely.deleteFrom('otlp_series').execute();
    values.ok += 100;
    expect((await post(b, tokenB, exportOf(startMs - 3_600_000, startMs + 90_000, values))).status).toBe(200);
    expect(await stored()).toEqual({ good, total });
    values.ok += 5;
    good += 5;
    total += 5;
    expect((await post(a, tokenA, exportOf(startMs - 3_600_000, startMs + 100_000, values))).status).toBe(
      200,
    );
    expect(await stored()).toEqual({ good, total });
    // The states are stored as the JSON every version of the receiver reads, exactly as JSON.stringify writes it.
    const rows = await a.shinrai.ctx.db.kysely
      .selectFrom('otlp_series')
      .select(['series_key', 'state'])
      .execute();
    const states = rows.filter((r) => r.series_key !== '~generation');
    expect(states.length).toBeGreaterThan(0);
    for (const { state } of states) {
      expect(JSON.stringify(JSON.parse(state))).toBe(state);
      expect(JSON.parse(state)).toMatchObject({ temporality: 'cumulative', startNs: expect.any(String) });
    }
  });

  it('forgets states written by a transaction that did not commit', async () => {
    const startMs = Date.now() - 60_000;
    const first = exportOf(startMs, startMs + 10_000, { ok: 10, failed: 1 }, 'other');
    expect((await post(a, tokenA, first)).status).toBe(200);
    const before = await stored();
    // A minute beyond the largest storable count fails the export after its states were written:
    // nothing of it is stored, and the same series' next point counts from the first one.
    const failed = await post(
      a,
      tokenA,
      exportOf(startMs, startMs + 20_000, { ok: 2e12, failed: 1 }, 'other'),
    );
    expect(failed.status).toBeGreaterThanOrEqual(400);
    expect(await stored()).toEqual(before);
    expect(
      (await post(a, tokenA, exportOf(startMs, startMs + 30_000, { ok: 14, failed: 2 }, 'other'))).status,
    ).toBe(200);
    expect(await stored()).toEqual({ good: before.good + 4, total: before.total + 5 });
  });
});
