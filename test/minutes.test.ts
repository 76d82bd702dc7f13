/**
 * `slo/minutes.ts`, the one way into `sli_minutes`, on both databases: a key's minutes in a range,
 * its first and last minute, sums cut into local days (across a Tokyo midnight, a New York DST
 * change, days off the quarter hour, more keys than one `IN` list), and the budget consumed
 * between two instants, against the naive oracle and the figure incident impact computed before.
 */
import { DateTime } from 'luxon';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DemoFeeder } from '../src/demo/feeder.js';
import { seededRandom } from '../src/demo/index.js';
import { dayWindows } from '../src/incidents/status-page.js';
import { type Db, openDatabase } from '../src/platform/db/database.js';
import { migrateToLatest } from '../src/platform/db/migrations.js';
import { createMetrics } from '../src/platform/metrics.js';
import { evaluate, type ObjectiveSpec } from '../src/slo/budget/index.js';
import { duration } from '../src/slo/duration.js';
import { evaluationTargets } from '../src/slo/evaluation.js';
import { replayStartMs } from '../src/slo/evaluator/state.js';
import { minuteStamp, upsertBuckets } from '../src/slo/ingest/service.js';
import {
  budgetBetween,
  earliestMinuteMs,
  latestMinuteMs,
  readBucketSums,
  readDailyCounts,
  readMinutes,
  type TimeWindow,
  type WindowCounts,
} from '../src/slo/minutes.js';
import { loadSpecText } from '../src/slo/spec/load.js';
import { oracleStatus } from './support/budget-oracle.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from './support/databases.js';
import { ratioSloYaml } from './support/specs.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
/** 12:00Z on 2026-11-23: 21:00 in Tokyo, whose 23rd began at 15:00Z on the 22nd. */
const NOW = Date.UTC(2026, 10, 23, 12);

interface Minute {
  readonly storageKey: string;
  readonly minuteMs: number;
  readonly good: number;
  readonly total: number;
}

/** A deterministic generator (mulberry32), so a failure replays. */

/** Every minute of `[fromMs, toMs)` for `storageKey`, with 0–100 events, some bad. */
function minutes(storageKey: string, fromMs: number, toMs: number, seed: number): Minute[] {
  const next = seededRandom(seed);
  const out: Minute[] = [];
  for (let ms = fromMs; ms < toMs; ms += MIN) {
    const total = Math.floor(next() * 101);
    const good = total - Math.floor(next() * next() * (total + 1) * 0.2);
    out.push({ storageKey, minuteMs: ms, good, total });
  }
  return out;
}

/** The reference for day sums: every minute added to the window it lies in, in memory. */
function referenceDays(
  rows: readonly Minute[],
  storageKey: string,
  days: readonly TimeWindow[],
): WindowCounts[] {
  return days.map((day) => {
    let good = 0;
    let total = 0;
    for (const r of rows)
      if (r.storageKey === storageKey && r.minuteMs >= day.startMs && r.minuteMs < day.endMs) {
        good += r.good;
        total += r.total;
      }
    return { good, total };
  });
}

function objective(overrides: Partial<ObjectiveSpec>): ObjectiveSpec {
  return {
    target: 0.99,
    method: 'Occurrences',
    window: { kind: 'rolling', duration: duration('1d'), windowMs: DAY },
    noData: 'excluded',
    adjustments: [],
    burnWindows: [{ label: '1h', windowMs: HOUR }],
    currentBurnWindowMs: HOUR,
    minDataCoverage: 0.9,
    ...overrides,
  };
}

describe.each(DIALECTS)('slo/minutes on %s', (dialect) => {
  let database: TestDatabase;
  let db: Db;
  const stored: Minute[] = [];
  const store = async (rows: readonly Minute[]) => {
    await upsertBuckets(db.kysely, rows, minuteStamp(db, NOW));
    stored.push(...rows);
  };

  beforeAll(async () => {
    database = await createTestDatabase(dialect);
    db = openDatabase(database.url);
    await migrateToLatest(db.kysely);
    // Three days around NOW for two keys, and a key with a future minute.
    await store(minutes('api', NOW - 3 * DAY, NOW, 1));
    await store(minutes('web', NOW - 3 * DAY + 7 * MIN, NOW - 5 * MIN, 2));
    await store([
      { storageKey: 'late', minuteMs: NOW - 2 * HOUR, good: 1, total: 1 },
      { storageKey: 'late', minuteMs: NOW + 30 * MIN, good: 2, total: 3 },
    ]);
  });

  afterAll(async () => {
    await db?.close();
    await database?.drop();
  });

  it("reads a key's minutes in [from, to), ascending, future minutes included without an end", async () => {
    const from = NOW - 3 * HOUR + 30_000;
    const to = NOW - HOUR;
    const rows = await readMinutes(db, 'api', from, to);
    const expected = stored
      .filter((r) => r.storageKey === 'api' && r.minuteMs >= from && r.minuteMs < to)
      .map((r) => ({ storageKey: 'api', minuteMs: r.minuteMs, good: r.good, total: r.total }));
    expect(rows).toEqual(expected);
    expect(rows[0]!.minuteMs).toBe(NOW - 3 * HOUR + MIN);
    expect((await readMinutes(db, 'late', NOW - DAY)).map((r) => r.minuteMs)).toEqual([
      NOW - 2 * HOUR,
      NOW + 30 * MIN,
    ]);
    expect(await readMinutes(db, 'nothing', 0)).toEqual([]);
  });

  it("finds a key's first and last stored minute, null when it has none", async () => {
    expect(await latestMinuteMs(db, 'late')).toBe(NOW + 30 * MIN);
    expect(await latestMinuteMs(db, 'web')).toBe(NOW - 6 * MIN);
    expect(await latestMinuteMs(db, 'nothing')).toBeNull();
    expect(await earliestMinuteMs(db, ['late', 'web', 'nothing'])).toBe(NOW - 3 * DAY + 7 * MIN);
    expect(await earliestMinuteMs(db, ['nothing'])).toBeNull();
  });

  it('sums minutes into Tokyo days that begin at 15:00 UTC', async () => {
    const days = dayWindows(NOW, 'Asia/Tokyo', 3);
    expect(new Date(days[2]!.startMs).toISOString()).toBe('2026-11-22T15:00:00.000Z');
    const daily = await readDailyCounts(db, ['api', 'web', 'late', 'nothing'], days);
    for (const key of ['api', 'web', 'late'])
      expect(daily.get(key), key).toEqual(referenceDays(stored, key, days));
    // The minutes either side of the Tokyo midnight land in different days.
    const before = stored.find((r) => r.storageKey === 'api' && r.minuteMs === days[2]!.startMs - MIN)!;
    const after = stored.find((r) => r.storageKey === 'api' && r.minuteMs === days[2]!.startMs)!;
    const edge = await readDailyCounts(
      db,
      ['api'],
      [
        { startMs: days[2]!.startMs - MIN, endMs: days[2]!.startMs },
        { startMs: days[2]!.startMs, endMs: days[2]!.startMs + MIN },
      ],
    );
    expect(edge.get('api')).toEqual([
      { good: before.good, total: before.total },
      { good: after.good, total: after.total },
    ]);
    // A key without a minute in the days is absent (the status page shows it as no data).
    expect(daily.has('nothing')).toBe(false);
    // Minutes after the last day's end (the future one) are not counted.
    expect(daily.get('late')!.at(-1)).toEqual({ good: 1, total: 1 });
  });

  it('sums minutes into days off the quarter hour (minute buckets) as exactly', async () => {
    // Windows starting 7 minutes past the hour: 15-minute buckets would straddle them.
    const days = [0, 1, 2].map((i) => ({
      startMs: NOW - (3 - i) * DAY + 7 * MIN,
      endMs: NOW - (2 - i) * DAY + 7 * MIN,
    }));
    const daily = await readDailyCounts(db, ['api', 'web'], days);
    expect(daily.get('api')).toEqual(referenceDays(stored, 'api', days));
    expect(daily.get('web')).toEqual(referenceDays(stored, 'web', days));
    // The bucket sums themselves, per minute, equal the stored minutes.
    const buckets = await readBucketSums(db, ['web'], { startMs: NOW - HOUR, endMs: NOW }, MIN);
    expect(buckets.sort((a, b) => a.startMs - b.startMs)).toEqual(
      stored
        .filter((r) => r.storageKey === 'web' && r.minuteMs >= NOW - HOUR)
        .map((r) => ({ storageKey: 'web', startMs: r.minuteMs, good: r.good, total: r.total })),
    );
    await expect(readBucketSums(db, ['web'], { startMs: 0, endMs: NOW }, 0)).rejects.toThrow(/bucketMs/);
  });

  it('cuts a 25-hour New York day (DST ends on 2026-11-01)', async () => {
    const at = Date.UTC(2026, 10, 2, 12);
    const rows = [
      ...minutes('ny', Date.UTC(2026, 9, 31, 0), Date.UTC(2026, 10, 1, 0), 3),
      ...minutes('ny', Date.UTC(2026, 10, 1, 3), Date.UTC(2026, 10, 2, 8), 4),
    ];
    await store(rows);
    const days = dayWindows(at, 'America/New_York', 3);
    const nov1 = days.find((d) => d.date === '2026-11-01')!;
    expect(nov1.endMs - nov1.startMs).toBe(25 * HOUR);
    expect(DateTime.fromMillis(nov1.startMs, { zone: 'America/New_York' }).hour).toBe(0);
    const daily = await readDailyCounts(db, ['ny'], days);
    expect(daily.get('ny')).toEqual(referenceDays(stored, 'ny', days));
  });

  it('reads more keys than one IN list holds (1,200 keys)', async () => {
    const keys = Array.from({ length: 1200 }, (_, i) => `many-${i}`);
    await store(keys.map((storageKey, i) => ({ storageKey, minuteMs: NOW - HOUR, good: i, total: i + 1 })));
    const days = dayWindows(NOW, 'UTC', 2);
    const daily = await readDailyCounts(db, keys, days);
    expect(daily.size).toBe(1200);
    keys.forEach((key, i) => {
      expect(daily.get(key)).toEqual([
        { good: 0, total: 0 },
        { good: i, total: i + 1 },
      ]);
    });
  });

  it('lets the demo continue after its last stored minute when restarted, counting no minute twice', async () => {
    const catalog = loadSpecText('demo.yaml', ratioSloYaml('demo')).catalog;
    const storageKey = evaluationTargets(catalog)[0]!.parts[0]!.storageKey;
    let nowMs = NOW;
    const deps = {
      db,
      clock: { now: () => nowMs },
      log: pino({ level: 'silent' }),
      metrics: createMetrics(),
      catalog: () => catalog,
    };
    await new DemoFeeder(deps, { seedDays: 1 }).feed();
    const first = await readMinutes(db, storageKey, 0);
    expect(first.length).toBe(1440);
    expect(await latestMinuteMs(db, storageKey)).toBe(NOW - MIN);
    // A restart an hour later: a new feeder over the same database adds the new hour only.
    nowMs += HOUR;
    await new DemoFeeder(deps, { seedDays: 1 }).feed();
    const second = await readMinutes(db, storageKey, 0);
    expect(second.slice(0, first.length)).toEqual(first);
    expect(second.map((r) => r.minuteMs).slice(first.length)).toEqual(
      Array.from({ length: 60 }, (_, i) => NOW + i * MIN),
    );
  });

  describe('budget between two instants', () => {
    const specs: Array<[string, ObjectiveSpec]> = [
      ['Occurrences, rolling 1d', objective({})],
      [
        'Timeslices of 5 minutes, rolling 1d',
        objective({ method: 'Timeslices', timeSliceMs: 5 * MIN, timeSliceTarget: 0.9 }),
      ],
      ['RatioTimeslices, rolling 1d', objective({ method: 'RatioTimeslices', timeSliceMs: MIN })],
      [
        'Occurrences, calendar day in Tokyo',
        objective({
          window: {
            kind: 'calendar',
            duration: duration('1d'),
            startTime: '2026-01-01 00:00:00',
            timeZone: 'Asia/Tokyo',
          },
        }),
      ],
    ];
    // An incident inside the window, and one that began before the window the budget looks at.
    const intervals: Array<[string, number, number]> = [
      ['ninety minutes ending now', NOW - 90 * MIN, NOW],
      ['two days ago to an hour ago', NOW - 2 * DAY, NOW - HOUR],
    ];

    it.each(specs)('%s: as the oracle and as incident impact computed it before', async (_, spec) => {
      for (const [what, fromMs, toMs] of intervals) {
        const got = await budgetBetween(db, { storageKey: 'api', spec }, fromMs, toMs);
        // What `incidents/impact.ts` computed before it read through slo/minutes.ts.
        const rows = stored.filter(
          (r) => r.storageKey === 'api' && r.minuteMs >= replayStartMs(spec, toMs) && r.minuteMs < toMs,
        );
        const counts = rows.map((r) => ({ ts: r.minuteMs, good: r.good, total: r.total }));
        const whole = evaluate(spec, counts, toMs);
        const during = evaluate(
          spec,
          counts.filter((c) => c.ts >= fromMs),
          toMs,
        );
        expect(got, what).toEqual({
          unit: during.budget.unit,
          consumed: during.budget.consumed,
          periodTotal: whole.budget.total,
        });
        // And independently: the naive oracle over the same minutes.
        const inPeriod = counts.filter((c) => c.ts >= whole.period.startMs);
        const oracleWhole = oracleStatus(spec, inPeriod, toMs);
        const oracleDuring = oracleStatus(
          spec,
          inPeriod.filter((c) => c.ts >= fromMs),
          toMs,
        );
        expect(got.unit, what).toBe(oracleWhole.budget.unit);
        expect(got.consumed, what).toBeCloseTo(oracleDuring.budget.consumed, 6);
        expect(got.periodTotal, what).toBeCloseTo(oracleWhole.budget.total, 6);
        expect(got.consumed, what).toBeGreaterThan(0);
      }
    });

    it('consumes nothing, of no period budget, for a stream without minutes', async () => {
      const spec = objective({});
      expect(await budgetBetween(db, { storageKey: 'nothing', spec }, NOW - HOUR, NOW)).toEqual({
        unit: 'events',
        consumed: 0,
        periodTotal: 0,
      });
    });
  });
});
