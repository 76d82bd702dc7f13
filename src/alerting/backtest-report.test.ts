import { describe, expect, it } from 'vitest';
import { ratioSloYaml } from '../../test/support/specs.js';
import { alertRulesFor, loadSpecText } from '../slo/index.js';
import { backtestReport, significantEvents } from './backtest-report.js';

const MIN = 60_000;
const DAY = 1440 * MIN;
const START = Date.UTC(2026, 0, 1);

const slo = loadSpecText(
  'slo.yaml',
  ratioSloYaml('api', { service: 'shop', sli: 'api-requests', window: '30d', target: 0.999 }),
).catalog.slos[0]!;
const rules = (() => {
  const r = alertRulesFor(slo);
  if (!r.ok) throw new Error(r.error);
  return r.rules;
})();

/** 14 days of 1,000 events a minute with the given incidents (start minute, minutes, error rate). */
function history(incidents: Array<[number, number, number]>) {
  const n = 14 * 1440;
  const total = new Float64Array(n).fill(1000);
  const good = new Float64Array(n).fill(1000);
  for (const [from, minutes, rate] of incidents)
    for (let i = from; i < from + minutes; i++) good[i] = 1000 * (1 - rate);
  return { target: 0.999, startMs: START, total, good, rules };
}

describe('significantEvents', () => {
  it('keeps stretches that used at least 2% of a period budget, merging short calm gaps', () => {
    const input = history([
      [2000, 30, 1], // 30,000 bad of a 43,200 budget: 69%
      [5000, 2, 0.05], // 100 bad: 0.2%, not significant
      [8000, 10, 0.5],
      [8013, 10, 0.5], // 3 calm minutes apart: one event of 10,000 bad
    ]);
    const events = significantEvents(input, { periodMs: 30 * DAY });
    expect(events.map((e) => [(e.startMs - START) / MIN, (e.endMs - START) / MIN, e.badEvents])).toEqual([
      [2000, 2030, 30_000],
      [8000, 8023, 10_000],
    ]);
    expect(events[0]!.budgetShare).toBeCloseTo(30_000 / 43_200, 9);
  });
});

describe('backtestReport', () => {
  it('says which events the default policy caught and how fast, and how often it pages', () => {
    const report = backtestReport(
      history([
        [2000, 30, 1],
        [10_000, 12 * 60, 0.01], // a slow 1% burn for 12 hours
      ]),
      { periodMs: 30 * DAY },
    );
    expect(report.events).toHaveLength(2);
    expect(report.events[0]!.detectedBy).toEqual({ rule: 'page', tier: 'page', afterMinutes: 1 });
    const slow = report.events[1]!.detectedBy!;
    expect(slow.tier).toBe('page');
    expect(slow.afterMinutes).toBeGreaterThanOrEqual(216);
    expect(slow.afterMinutes).toBeLessThanOrEqual(217);
    expect(report.detectedEvents).toBe(2);
    const pages = report.alerts.filter((a) => a.tier === 'page').length;
    expect(report.pagesPerWeek).toBeCloseTo(pages / 2, 12);
    expect(report.medianDetectionMinutes).toBe((1 + slow.afterMinutes) / 2);
  });

  it('reports an event no rule catches', () => {
    // 0.3% for 40 minutes: above the budget rate (0.1%), 120 bad (0.28% of the budget), below every alert threshold.
    const report = backtestReport(history([[3000, 40, 0.003]]), {
      periodMs: 30 * DAY,
      minBudgetShare: 0.001,
    });
    expect(report.events).toHaveLength(1);
    expect(report.events[0]!.detectedBy).toBeNull();
    expect(report.medianDetectionMinutes).toBeNull();
  });
});
