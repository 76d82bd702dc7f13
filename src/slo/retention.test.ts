import { describe, expect, it } from 'vitest';
import { ratioSloYaml } from '../../test/support/specs.js';
import { loadConfig } from '../platform/config.js';
import { DAY_MS, HOUR_MS, historyRegions, MINUTE_MS } from '../platform/retention.js';
import { evaluationTargets } from './evaluation.js';
import { historyPlans, readSpanMs, sliMinutesKeepMs } from './retention.js';
import { loadSpecText } from './spec/load.js';

const SETTINGS = loadConfig().retention;

function targets(...docs: string[]) {
  const result = loadSpecText('retention.yaml', docs.join('---\n'));
  expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return evaluationTargets(result.catalog);
}

const calendarMonth = `apiVersion: openslo/v1
kind: SLO
metadata: {name: monthly}
spec:
  service: svc
  indicator:
    metadata: {name: monthly-requests}
    spec:
      ratioMetric:
        good: {metricSource: {type: shinrai, spec: {}}}
        total: {metricSource: {type: shinrai, spec: {}}}
  timeWindow: [{duration: 1M, isRolling: false, calendar: {startTime: "2026-01-01 00:00:00", timeZone: Asia/Tokyo}}]
  budgetingMethod: Occurrences
  objectives: [{target: 0.99}]
`;

describe('readSpanMs', () => {
  it('is a rolling window, or the longest a calendar period can be', () => {
    expect(readSpanMs(targets(ratioSloYaml('a', { window: '28d' }))[0]!)).toBe(28 * DAY_MS);
    // 31 days and a day of slack for DST.
    expect(readSpanMs(targets(calendarMonth)[0]!)).toBe(32 * DAY_MS);
  });
});

describe('sliMinutesKeepMs', () => {
  it('keeps the longest window plus 35 days', () => {
    const all = targets(ratioSloYaml('a', { window: '7d' }), ratioSloYaml('b', { window: '30d' }));
    expect(sliMinutesKeepMs(all, 35)).toBe(30 * DAY_MS + 35 * DAY_MS);
  });

  it('keeps what the history backfill replays: a window before each point of its span', () => {
    // A 90-day window: the backfill fills 90 days of history, each point reading 90 days before it.
    expect(sliMinutesKeepMs(targets(ratioSloYaml('a', { window: '90d' })), 35)).toBe(180 * DAY_MS);
  });

  it('keeps at least the status page’s days of bars', () => {
    expect(sliMinutesKeepMs(targets(ratioSloYaml('a', { window: '7d' })), 10, { statusPageDays: 90 })).toBe(
      91 * DAY_MS,
    );
  });

  it('keeps what other readers need (the monthly report’s trend) when it is longer', () => {
    const slo = targets(ratioSloYaml('a', { window: '7d' }));
    expect(sliMinutesKeepMs(slo, 10, { statusPageDays: 90, readersDays: 218 })).toBe(218 * DAY_MS);
    expect(sliMinutesKeepMs(slo, 10, { statusPageDays: 300, readersDays: 218 })).toBe(301 * DAY_MS);
  });

  it('deletes nothing when off or when no SLO says what is needed', () => {
    expect(sliMinutesKeepMs(targets(ratioSloYaml('a')), 0)).toBeNull();
    expect(sliMinutesKeepMs([], 35)).toBeNull();
  });
});

describe('historyPlans', () => {
  it('protects each SLO’s backfill span, and thins history of SLOs no longer in the catalog by the tiers alone', () => {
    const now = Date.UTC(2026, 11, 7, 12);
    const plans = historyPlans(
      targets(ratioSloYaml('short', { window: '7d' }), ratioSloYaml('long', { window: '90d' })),
      SETTINGS,
    );
    const hourlyFrom = (id: string) =>
      historyRegions(plans.byId.get(id) ?? plans.other, now).regions.find((r) => r.bucketMs === HOUR_MS)!
        .toMs;
    expect(hourlyFrom('short')).toBe(now - 35 * DAY_MS);
    expect(hourlyFrom('long')).toBe(now - 90 * DAY_MS);
    const other = historyRegions(plans.other, now).regions;
    expect(other.find((r) => r.bucketMs === 5 * MINUTE_MS)!.toMs).toBe(now - 2 * DAY_MS);
  });
});
