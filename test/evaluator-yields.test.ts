/**
 * A long backfill lets the rest of the process run between its parts. On SQLite every query is
 * synchronous: before, a start-up backfill held the event loop for a whole tick's budget, so
 * requests waited and `shinrai serve` over a large database exited at start (Fastify's plugin
 * timeout fired during the first tick; found by the soak, bench/soak.bench.ts).
 */
import { sql } from 'kysely';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/platform/db/database.js';
import { migrateToLatest } from '../src/platform/db/migrations.js';
import { createMetrics } from '../src/platform/metrics.js';
import { Evaluator } from '../src/slo/evaluator/evaluator.js';
import { createLeaderElection } from '../src/slo/evaluator/leader.js';
import { loadSpecText } from '../src/slo/spec/load.js';
import { createTestDatabase, DIALECTS } from './support/databases.js';
import { ratioSloYaml } from './support/specs.js';

const MIN = 60_000;
const SLOS = 12;
const DAYS = 3;

describe.each(DIALECTS)('the evaluator on %s', (dialect) => {
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it('lets timers run between the parts of its start-up and history backfills', async () => {
    const testDb = await createTestDatabase(dialect);
    cleanup.push(() => testDb.drop());
    const db = openDatabase(testDb.url);
    cleanup.push(() => db.close());
    await migrateToLatest(db.kysely);
    const nowMs = Math.floor(Date.now() / MIN) * MIN;
    const first = nowMs / MIN - DAYS * 1440;
    const lit = sql.lit;
    await sql`
      WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < ${lit(SLOS - 1)}),
        m(x) AS (SELECT CAST(${lit(first)} AS bigint) UNION ALL SELECT x + 1 FROM m WHERE x < ${lit(nowMs / MIN - 1)})
      INSERT INTO sli_minutes (sli, minute_ts, good, total, updated_at)
      SELECT 'sli-' || i, x * ${lit(MIN)}, 999, 1000, x * ${lit(MIN)} + 30000 FROM s CROSS JOIN m`.execute(
      db.kysely,
    );
    const yaml = Array.from({ length: SLOS }, (_, i) =>
      ratioSloYaml(`slo-${i}`, { sli: `sli-${i}`, window: '28d' }),
    ).join('---\n');
    const { catalog } = loadSpecText('yields.yaml', yaml);
    // What happened, in order: the timer's turns and the history backfill finishing each SLO.
    const events: string[] = [];
    const log = pino(
      { level: 'info' },
      {
        write: (line: string) => {
          if ((JSON.parse(line) as { msg: string }).msg === 'history backfill: done') events.push('history');
        },
      },
    );
    const metrics = createMetrics();
    const leader = createLeaderElection({ db, url: testDb.url, retrySeconds: 5, log, metrics });
    await leader.start();
    const evaluator = new Evaluator({
      db,
      clock: { now: () => nowMs + 5_000 },
      log,
      metrics,
      specs: () => ({ catalog, version: 1 }),
      config: { tickSeconds: 30, historyStepSeconds: 300 },
      leader,
    });
    cleanup.push(() => evaluator.stop());

    // A timer that asks for a turn again each time it gets one, until the tick is over.
    let ticking = true;
    const turn = () => {
      events.push('timer');
      if (ticking) setImmediate(turn);
    };
    setImmediate(turn);
    await evaluator.tick();
    ticking = false;

    // The one tick backfilled every status and every SLO's history.
    expect(events.filter((e) => e === 'history')).toHaveLength(SLOS);
    // The timer ran while the statuses were backfilled (12 parts: several turns before the
    // first history is done), and between every two SLOs' histories (3 days: several chunks each).
    const firstHistory = events.indexOf('history');
    expect(firstHistory).toBeGreaterThan(SLOS / 2);
    for (let i = firstHistory + 1; i < events.length; i++)
      if (events[i] === 'history') expect(events[i - 1], `before history #${i}`).toBe('timer');
  });
});
