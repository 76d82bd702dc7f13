import fc from 'fast-check';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';
import type { Db } from './db/index.js';
import { createMetrics } from './metrics.js';
import {
  cutoffMs,
  DAY_MS,
  HOUR_MS,
  historyPlan,
  historyRegions,
  keptHistory,
  MINUTE_MS,
  type RetentionRule,
  type RetentionSettings,
  RetentionTask,
  thinnedPoints,
} from './retention.js';

const DEFAULTS = loadConfig().retention;
const settings = (overrides: Partial<RetentionSettings> = {}): RetentionSettings => ({
  ...DEFAULTS,
  ...overrides,
});
/** 12:34:56Z on 2026-12-07: not on any bucket boundary. */
const NOW = Date.UTC(2026, 11, 7, 12, 34, 56);

describe('retention config', () => {
  it('has the documented defaults', () => {
    expect(DEFAULTS).toMatchObject({
      enabled: true,
      intervalMinutes: 60,
      batchRows: 5000,
      ingestKeysDays: 7,
      historyFullDays: 2,
      historyFiveMinuteDays: 35,
      historyHourlyDays: 400,
      sliMinutesMarginDays: 35,
      resolvedAlertsDays: 90,
      outboxDays: 90,
    });
  });

  it('reads "off" and 0 as a rule switched off, from the environment too', () => {
    const config = loadConfig({
      env: { SHINRAI_RETENTION_OUTBOX_DAYS: 'off', SHINRAI_RETENTION_INGEST_KEYS_DAYS: '0' },
    });
    expect(config.retention.outboxDays).toBe(0);
    expect(config.retention.ingestKeysDays).toBe(0);
  });

  it('refuses a coarser history tier that ends before a finer one', () => {
    expect(() => loadConfig({ flags: { 'retention.historyHourlyDays': 10 } })).toThrow(
      /retention\.historyHourlyDays .*must be at least retention\.historyFiveMinuteDays/,
    );
    expect(() => loadConfig({ flags: { 'retention.batchRows': 0 } })).toThrow(/retention\.batchRows/);
    expect(() => loadConfig({ flags: { 'retention.outboxDays': 'never' } })).toThrow(/retention\.outboxDays/);
  });
});

describe('cutoffMs', () => {
  it('is the instant `days` before now, or null when the rule is off', () => {
    expect(cutoffMs(NOW, 7)).toBe(NOW - 7 * DAY_MS);
    expect(cutoffMs(NOW, 0)).toBeNull();
  });
});

describe('historyPlan', () => {
  it('keeps every point 2 days, 5-minute points to 35 days, hourly to 400, when nothing is protected', () => {
    expect(historyPlan(settings(), 0)).toEqual({
      tiers: [
        { fromAgeMs: 2 * DAY_MS, bucketMs: 5 * MINUTE_MS },
        { fromAgeMs: 35 * DAY_MS, bucketMs: HOUR_MS },
      ],
      deleteAgeMs: 400 * DAY_MS,
    });
  });

  it('thins nothing the history backfill would re-create (its span protects every tier)', () => {
    expect(historyPlan(settings(), 90 * DAY_MS)).toEqual({
      tiers: [
        { fromAgeMs: 90 * DAY_MS, bucketMs: 5 * MINUTE_MS },
        { fromAgeMs: 90 * DAY_MS, bucketMs: HOUR_MS },
      ],
      deleteAgeMs: 400 * DAY_MS,
    });
    // A protected span longer than the hourly tier postpones the deletion too.
    expect(historyPlan(settings({ historyHourlyDays: 100 }), 367 * DAY_MS)).toEqual({
      tiers: [],
      deleteAgeMs: 367 * DAY_MS,
    });
  });

  it('switches tiers off one by one', () => {
    expect(historyPlan(settings({ historyFullDays: 0 }), 0)).toEqual({
      tiers: [],
      deleteAgeMs: 400 * DAY_MS,
    });
    expect(historyPlan(settings({ historyFiveMinuteDays: 0 }), 0).tiers).toEqual([
      { fromAgeMs: 2 * DAY_MS, bucketMs: HOUR_MS },
    ]);
    expect(historyPlan(settings({ historyHourlyDays: 0 }), 0).deleteAgeMs).toBeNull();
  });
});

describe('historyRegions', () => {
  it('covers whole UTC buckets past each tier, coarsest first, without overlap', () => {
    const { deleteBeforeMs, regions } = historyRegions(historyPlan(settings(), 0), NOW);
    expect(deleteBeforeMs).toBe(NOW - 400 * DAY_MS);
    const hourly = regions.find((r) => r.bucketMs === HOUR_MS)!;
    const fiveMinute = regions.find((r) => r.bucketMs === 5 * MINUTE_MS)!;
    expect(hourly.toMs).toBe(Date.UTC(2026, 10, 2, 12)); // 35 days before, down to the hour
    expect(hourly.fromMs).toBe(Date.UTC(2025, 10, 2, 12)); // the deletion cutoff, down to the hour
    expect(fiveMinute.fromMs).toBe(hourly.toMs);
    expect(fiveMinute.toMs).toBe(Date.UTC(2026, 11, 5, 12, 30));
  });

  it('has nothing to thin when every tier is off', () => {
    expect(
      historyRegions(historyPlan(settings({ historyFullDays: 0, historyHourlyDays: 0 }), 0), NOW),
    ).toEqual({
      deleteBeforeMs: null,
      regions: [],
    });
  });
});

describe('thinnedPoints', () => {
  it('keeps the last point of each bucket, whatever the order', () => {
    const region = { fromMs: 0, toMs: 2 * HOUR_MS, bucketMs: HOUR_MS };
    const points = [55 * MINUTE_MS, 0, 5 * MINUTE_MS, HOUR_MS + 10 * MINUTE_MS, HOUR_MS];
    expect(thinnedPoints(points, region).sort((a, b) => a - b)).toEqual([0, 5 * MINUTE_MS, HOUR_MS]);
  });

  it('leaves points outside the region alone', () => {
    expect(
      thinnedPoints([-1, 2 * HOUR_MS, 2 * HOUR_MS + 1], { fromMs: 0, toMs: 2 * HOUR_MS, bucketMs: HOUR_MS }),
    ).toEqual([]);
  });
});

describe('keptHistory', () => {
  const plan = historyPlan(settings(), 0);

  it('keeps, at every age, what a chart at that resolution reads', () => {
    // A point every 5 minutes for 420 days.
    const points: number[] = [];
    const endMs = Math.floor(NOW / (5 * MINUTE_MS)) * 5 * MINUTE_MS;
    for (let ts = endMs - 420 * DAY_MS; ts <= endMs; ts += 5 * MINUTE_MS) points.push(ts);
    const kept = keptHistory(points, plan, NOW);
    const { regions, deleteBeforeMs } = historyRegions(plan, NOW);
    const hourly = regions.find((r) => r.bucketMs === HOUR_MS)!;
    // Nothing older than 400 days; every point of the last 35 days (already 5-minute); one an hour before.
    expect(Math.min(...kept)).toBeGreaterThanOrEqual(deleteBeforeMs!);
    expect(kept.filter((ts) => ts >= hourly.toMs)).toEqual(points.filter((ts) => ts >= hourly.toMs));
    const old = kept.filter((ts) => ts < hourly.toMs);
    expect(old.every((ts) => ts % HOUR_MS === 55 * MINUTE_MS)).toBe(true);
    // The hour holding the deletion cutoff keeps its last point (xx:55 is after xx:34:56).
    expect(old.length).toBe((hourly.toMs - Math.floor(deleteBeforeMs! / HOUR_MS) * HOUR_MS) / HOUR_MS);
  });

  it('is idempotent and answers chart reads at each tier’s resolution exactly (property)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 500 * 24 * 60 }), { maxLength: 400 }),
        fc.integer({ min: 0, max: 5 * DAY_MS }),
        (minutes, extraMs) => {
          const nowMs = 450 * DAY_MS + extraMs;
          const points = minutes.map((m) => m * MINUTE_MS).sort((a, b) => a - b);
          const kept = keptHistory(points, plan, nowMs);
          expect(keptHistory(kept, plan, nowMs)).toEqual(kept);
          const { regions } = historyRegions(plan, nowMs);
          for (const region of regions) {
            // The last point of every bucket of the region survives, and only it.
            const lastOf = new Map<number, number>();
            for (const ts of points)
              if (ts >= region.fromMs && ts < region.toMs) lastOf.set(Math.floor(ts / region.bucketMs), ts);
            const inRegion = kept.filter((ts) => ts >= region.fromMs && ts < region.toMs);
            expect(inRegion).toEqual([...lastOf.values()].filter((ts) => ts >= nowMs - plan.deleteAgeMs!));
          }
        },
      ),
    );
  });
});

describe('RetentionTask', () => {
  const log = pino({ level: 'silent' });
  /** A rule that "deletes" `rows` rows per statement, `statements` times, pausing after each. */
  const rule = (name: string, statements: number, rows: number): RetentionRule => ({
    name,
    apply: async (run) => {
      for (let i = 0; i < statements; i++) {
        run.count(name, rows);
        if (!(await run.pause())) return;
      }
    },
  });
  const task = (rules: RetentionRule[], options: { leader?: () => boolean; sleeps?: number[] } = {}) =>
    new RetentionTask({
      db: {} as Db,
      clock: { now: () => NOW },
      log,
      metrics: createMetrics(),
      settings: settings({ batchRows: 100, pauseMs: 7 }),
      isLeader: options.leader ?? (() => true),
      rules: () => rules,
      sleep: async (ms) => {
        options.sleeps?.push(ms);
      },
    });

  it('runs every rule, a failing one logged and the others still run, and sums what each deleted', async () => {
    const failing: RetentionRule = {
      name: 'broken',
      apply: async () => {
        throw new Error('no such table');
      },
    };
    const summary = await task([rule('a', 2, 10), failing, rule('b', 1, 5)]).runNow();
    expect(summary).toMatchObject({ deleted: { a: 20, b: 5 }, failed: ['broken'], stopped: false });
  });

  it('pauses once per batchRows rows deleted, however small the statements', async () => {
    const sleeps: number[] = [];
    await task([rule('history', 50, 10)], { sleeps }).runNow();
    // 500 rows in statements of 10: a pause after every 100.
    expect(sleeps).toEqual([7, 7, 7, 7, 7]);
  });

  it('stops between two batches when the lead is lost', async () => {
    let leading = true;
    const steps: RetentionRule = {
      name: 'first',
      apply: async (run) => {
        run.count('first', 100);
        leading = false;
        expect(await run.pause()).toBe(false);
      },
    };
    const summary = await task([steps, rule('second', 1, 1)], { leader: () => leading }).runNow();
    expect(summary).toMatchObject({ deleted: { first: 100 }, stopped: true });
  });

  it('counts per table in shinrai_retention_deleted_total', async () => {
    const metrics = createMetrics();
    const retention = new RetentionTask({
      db: {} as Db,
      clock: { now: () => NOW },
      log,
      metrics,
      settings: settings(),
      isLeader: () => true,
      rules: () => [rule('sli_minutes', 3, 4)],
    });
    await retention.runNow();
    expect(await metrics.registry.getSingleMetricAsString('shinrai_retention_deleted_total')).toContain(
      'shinrai_retention_deleted_total{table="sli_minutes"} 12',
    );
  });
});
