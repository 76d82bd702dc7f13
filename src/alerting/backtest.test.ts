import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AlertRule } from '../slo/index.js';
import { backtest } from './backtest.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const START = Date.UTC(2026, 0, 1);

/** The 30-day Workbook rules at 99.9% (factors 14.4, 6, 3, 1). */
const rule = (name: 'page' | 'ticket', conditions: AlertRule['conditions']): AlertRule => ({
  name,
  tier: name,
  severity: name === 'page' ? 'critical' : 'warning',
  conditions,
  forMs: 0,
  labels: {},
  annotations: {},
  source: 'workbook',
  notifyNoData: false,
  notifyResolved: true,
});
const PAGE_1H = rule('page', [{ longWindowMs: HOUR, shortWindowMs: 5 * MIN, factor: 14.4, op: 'gt' }]);
const PAGE_6H = rule('page', [{ longWindowMs: 6 * HOUR, shortWindowMs: 30 * MIN, factor: 6, op: 'gt' }]);

/** `before` minutes of clean traffic, then `after` minutes at `errorRate`, 1,000 events a minute. */
function outage(errorRate: number, before: number, after: number) {
  const n = before + after;
  const total = new Float64Array(n).fill(1000);
  const good = new Float64Array(n).fill(1000);
  for (let i = before; i < n; i++) good[i] = 1000 * (1 - errorRate);
  return { total, good, outageStartMs: START + before * MIN };
}

const detectionMinutes = (rules: AlertRule[], errorRate: number) => {
  const data = outage(errorRate, 3 * 24 * 60, 12 * 60);
  const [first] = backtest({ target: 0.999, rules, startMs: START, ...data });
  return first ? (first.firedAtMs - data.outageStartMs) / MIN : null;
};

describe('backtest: the Workbook arithmetic at 99.9% over 30 days (one-minute resolution)', () => {
  it('a 100% outage trips the 1h / 14.4× page after 0.864 minutes of data → the first minute', () => {
    expect(detectionMinutes([PAGE_1H], 1)).toBe(1);
  });

  it('a 10% error rate trips it after 8.64 minutes → the 9th minute', () => {
    expect(detectionMinutes([PAGE_1H], 0.1)).toBe(9);
  });

  it('a 1% error rate never trips the 1h page but trips the 6h / 6× page after 216 minutes', () => {
    expect(detectionMinutes([PAGE_1H], 0.01)).toBeNull();
    const minutes = detectionMinutes([PAGE_6H], 0.01)!;
    // 216 minutes gives exactly 6× (not above it); the next minute is above.
    expect(minutes).toBeGreaterThanOrEqual(216);
    expect(minutes).toBeLessThanOrEqual(217);
  });

  it('resolves once the short window recovers, not an hour later', () => {
    const data = outage(1, 24 * 60, 10);
    const extended = {
      total: Float64Array.from([...data.total, ...new Array(120).fill(1000)]),
      good: Float64Array.from([...data.good, ...new Array(120).fill(1000)]),
    };
    const [alert] = backtest({ target: 0.999, rules: [PAGE_1H], startMs: START, ...extended });
    expect(alert!.firedAtMs).toBe(data.outageStartMs + MIN);
    // 10 bad minutes of 1,000: the 5m window drops below 14.4× once fewer than ~0.36 bad minutes remain in it.
    expect((alert!.resolvedAtMs! - data.outageStartMs) / MIN).toBe(15);
    expect(alert!.peakBurnRate).toBeCloseTo((10 * 1000) / (60 * 1000) / 0.001, 6);
  });

  it('waits alertAfter before firing', () => {
    const delayed = { ...PAGE_1H, forMs: 5 * MIN };
    const data = outage(1, 24 * 60, 30);
    const [alert] = backtest({ target: 0.999, rules: [delayed], startMs: START, ...data });
    expect((alert!.pendingAtMs - data.outageStartMs) / MIN).toBe(1);
    expect((alert!.firedAtMs - data.outageStartMs) / MIN).toBe(6);
    expect(alert!.resolvedAtMs).toBeNull();
  });

  it('does not page on one failed request out of ten with the low-traffic guard', () => {
    const total = new Float64Array(24 * 60);
    const good = new Float64Array(24 * 60);
    total[600] = 10;
    good[600] = 9;
    const input = { target: 0.999, rules: [PAGE_1H], startMs: START, total, good };
    expect(backtest(input)).toHaveLength(1);
    expect(backtest({ ...input, minEvents: 100 })).toEqual([]);
  });

  it('never fires on minutes without events', () => {
    const empty = new Float64Array(600);
    expect(
      backtest({ target: 0.999, rules: [PAGE_1H, PAGE_6H], startMs: START, total: empty, good: empty }),
    ).toEqual([]);
  });
});

describe('backtest of a composite SLO', () => {
  it('burns at the weighted mean of its parts, as the live status does', () => {
    const broken = outage(1, 24 * 60, 30);
    const healthy = outage(0, 24 * 60, 30);
    const [alert] = backtest({
      target: 0.999,
      rules: [PAGE_1H],
      startMs: START,
      good: broken.good,
      total: broken.total,
      parts: [
        { target: 0.999, weight: 1, ...broken },
        { target: 0.999, weight: 1, ...healthy },
      ],
    });
    // (16.67 x + 0) / 2 > 14.4 → x > 1.73: the second minute, where the broken part alone pages in the first.
    expect((alert!.firedAtMs - broken.outageStartMs) / MIN).toBe(2);
  });
});

describe('backtest properties', () => {
  const traffic = fc.array(
    fc.record({
      total: fc.integer({ min: 0, max: 50 }),
      badShare: fc.double({ min: 0, max: 1, noNaN: true }),
    }),
    { minLength: 1, maxLength: 400 },
  );

  it('raising a threshold never adds alert time: every firing minute was firing at the lower one', () => {
    fc.assert(
      fc.property(
        traffic,
        fc.double({ min: 0.1, max: 50, noNaN: true }),
        fc.double({ min: 0, max: 50, noNaN: true }),
        (minutes, low, extra) => {
          const total = Float64Array.from(minutes.map((m) => m.total));
          const good = Float64Array.from(minutes.map((m) => Math.round(m.total * (1 - m.badShare))));
          const run = (factor: number) =>
            backtest({
              target: 0.99,
              startMs: START,
              total,
              good,
              rules: [rule('page', [{ longWindowMs: 30 * MIN, shortWindowMs: 5 * MIN, factor, op: 'gt' }])],
            });
          const end = START + (minutes.length + 1) * MIN;
          const covered = (alerts: ReturnType<typeof run>, atMs: number) =>
            alerts.some((a) => a.firedAtMs <= atMs && atMs < (a.resolvedAtMs ?? end));
          const lower = run(low);
          const higher = run(low + extra);
          for (const a of higher)
            for (let t = a.firedAtMs; t < (a.resolvedAtMs ?? end); t += MIN)
              expect(covered(lower, t)).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });
});
