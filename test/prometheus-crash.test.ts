/**
 * Crash safety of the Prometheus pull: kill -9 the server in the middle of a first load, check
 * that what is stored is whole (every stored minute exact, nothing past the cursor), restart it
 * and check that it finishes the load with every minute exactly once.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/platform/db/database.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from './support/databases.js';
import { spawnShinrai } from './support/process.js';
import {
  backfillOpenMetrics,
  generateRequestCounters,
  type PrometheusServer,
  prometheusAvailable,
  startPrometheus,
} from './support/prometheus.js';
import { prometheusSloYaml } from './support/specs.js';

const MIN = 60_000;
const DAY = 1_440 * MIN;
const NOW = Math.floor(Date.now() / MIN) * MIN;

const spec = (url: string) =>
  prometheusSloYaml('checkout', {
    source: 'prom',
    url,
    sli: 'checkout-requests',
    good: 'http_requests_total{code="200"}',
    total: 'http_requests_total',
  });

describe.skipIf(!prometheusAvailable())('kill -9 during a first load from Prometheus', () => {
  let work: string;
  let prometheus: PrometheusServer;
  let truth: Map<number, { good: number; total: number }>;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'shinrai-prom-crash-'));
    const data = generateRequestCounters({
      jobs: [{ job: 'checkout', instances: ['a'], rps: () => 3, errorRatio: () => 0.01 }],
      startMs: NOW - 31 * DAY,
      endMs: NOW,
      scrapeSeconds: 15,
      seed: 3,
    });
    truth = new Map(data.minutes.get('checkout')!.map((m) => [m.minuteMs, m]));
    await backfillOpenMetrics(data.openMetrics, join(work, 'tsdb'));
    prometheus = await startPrometheus({ dataDir: join(work, 'tsdb') });
    await writeFile(join(work, 'slo.yaml'), spec(prometheus.url));
  }, 120_000);

  afterAll(async () => {
    await prometheus?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  describe.each(DIALECTS)('on %s', (dialect) => {
    let database: TestDatabase;
    beforeAll(async () => {
      database = await createTestDatabase(dialect);
    });
    afterAll(async () => {
      await database?.drop();
    });

    /** The stored cursor and minutes; every stored minute must equal the truth, none past the cursor. */
    const stored = async () => {
      const db = openDatabase(database.url);
      try {
        const cursor = await db.kysely.selectFrom('source_cursors').selectAll().executeTakeFirst();
        const rows = await db.kysely
          .selectFrom('sli_minutes')
          .select(['minute_ts', 'good', 'total'])
          .where('sli', '=', 'checkout-requests')
          .execute();
        return {
          cursor,
          rows: rows.map((r) => ({
            minuteMs: Number(r.minute_ts),
            good: Number(r.good),
            total: Number(r.total),
          })),
        };
      } finally {
        await db.close();
      }
    };

    const expectWhole = async () => {
      const { cursor, rows } = await stored();
      const from = Number(cursor?.from_ms ?? 0);
      const until = Number(cursor?.synced_until_ms ?? 0);
      for (const row of rows) {
        expect(row.minuteMs, 'a minute past the cursor was stored without it').toBeLessThan(until);
        expect(row, `minute ${new Date(row.minuteMs).toISOString()}`).toEqual({
          minuteMs: row.minuteMs,
          ...pick(truth.get(row.minuteMs)),
        });
      }
      return { from, until, rows: rows.length };
    };

    it('stores whole chunks only, and finishes the load after a restart', async () => {
      const env = {
        // Small chunks make the first load long enough to be killed in the middle.
        SHINRAI_PROMETHEUS_CHUNK_MINUTES: '30',
        SHINRAI_PROMETHEUS_CONCURRENCY: '1',
      };
      const args = ['--specs', join(work, 'slo.yaml'), '--db', database.url];
      const first = await spawnShinrai(args, env);
      // Wait until part of the period is in, then kill -9.
      for (let i = 0; i < 400; i++) {
        const { cursor } = await stored().catch(() => ({ cursor: undefined }));
        if (cursor && Number(cursor.synced_until_ms) - Number(cursor.from_ms) > 3 * DAY) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await first.kill('SIGKILL');
      const partial = await expectWhole();
      expect(partial.until - partial.from).toBeGreaterThan(3 * DAY);
      expect(partial.until, 'killed before the load finished').toBeLessThan(NOW - 2 * MIN);

      const second = await spawnShinrai(args, env);
      try {
        for (let i = 0; i < 600; i++) {
          const { cursor } = await stored();
          if (cursor && Number(cursor.synced_until_ms) >= NOW - MIN) break;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      } finally {
        await second.kill('SIGTERM');
      }
      const done = await expectWhole();
      expect(done.from).toBe(partial.from);
      expect(done.until).toBeGreaterThanOrEqual(NOW - MIN);
      // Every minute of the period is there exactly once.
      expect(done.rows).toBe((done.until - done.from) / MIN);
    }, 120_000);
  });
});

function pick(m: { good: number; total: number } | undefined) {
  return m ? { good: m.good, total: m.total } : { good: Number.NaN, total: Number.NaN };
}
