import { describe, expect, it } from 'vitest';
import { type AlertRule, DEFAULT_BURN_WINDOWS } from '../slo/index.js';
import { lookupByLabel, observe, observeGuard } from './observe.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const page: AlertRule = {
  name: 'page',
  tier: 'page',
  severity: 'critical',
  conditions: [
    { longWindowMs: HOUR, shortWindowMs: 5 * MIN, factor: 14.4, op: 'gt' },
    { longWindowMs: 6 * HOUR, shortWindowMs: 30 * MIN, factor: 6, op: 'gt' },
  ],
  forMs: 0,
  labels: {},
  annotations: {},
  source: 'workbook',
  notifyNoData: false,
  notifyResolved: true,
};
const rates = (r: Record<string, number | null>) =>
  lookupByLabel(
    { '5m': 0, '30m': 0, '1h': 0, '2h': 0, '6h': 0, '1d': 0, '3d': 0, ...r },
    DEFAULT_BURN_WINDOWS,
  );

describe('observe', () => {
  it('holds when both windows of one condition burn above the factor', () => {
    expect(observe(page, rates({ '1h': 20, '5m': 30 }))).toBe('holds');
    expect(observe(page, rates({ '6h': 7, '30m': 8 }))).toBe('holds');
  });

  it('is clear when the short window has recovered, even if the long one still burns', () => {
    expect(observe(page, rates({ '1h': 20, '5m': 1 }))).toBe('clear');
  });

  it('is no data when a window has no burn rate or the data is not current', () => {
    expect(observe(page, rates({ '5m': null }))).toBe('no-data');
    expect(observe(page, rates({ '1h': 20, '5m': 30 }), false)).toBe('no-data');
    // a window the status does not have at all
    expect(
      observe({ ...page, conditions: [{ longWindowMs: 4 * HOUR, factor: 1, op: 'gt' }] }, rates({})),
    ).toBe('no-data');
  });

  it('still holds on one condition while another lacks data', () => {
    expect(observe(page, rates({ '1h': 20, '5m': 30, '30m': null }))).toBe('holds');
  });

  it('does not fire on a handful of events with the low-traffic guard', () => {
    const burning = rates({ '1h': 100, '5m': 100, '6h': 100, '30m': 100 });
    const events = (n: number) => lookupByLabel({ '1h': n, '6h': n }, DEFAULT_BURN_WINDOWS);
    expect(observe(page, burning, true, { minEvents: 20, events: events(10) })).toBe('clear');
    expect(observe(page, burning, true, { minEvents: 20, events: events(20) })).toBe('holds');
    // not counted (time-slice methods): the guard lets it through
    expect(observe(page, burning, true, { minEvents: 20, events: () => undefined })).toBe('holds');
  });

  it('guards: no data when the SLI stopped reporting, budget exhausted at or below zero', () => {
    const rule = (kind: 'no-data' | 'budget-exhausted') => ({ ...page, name: kind, kind, conditions: [] });
    const facts = { dataCurrent: true, recentData: true, budgetRemaining: 0.4 };
    expect(observeGuard(rule('no-data'), facts)).toBe('clear');
    expect(observeGuard(rule('no-data'), { ...facts, recentData: false })).toBe('holds');
    expect(observeGuard(rule('no-data'), { ...facts, dataCurrent: false })).toBe('holds');
    expect(observeGuard(rule('budget-exhausted'), facts)).toBe('clear');
    expect(observeGuard(rule('budget-exhausted'), { ...facts, budgetRemaining: 0 })).toBe('holds');
    expect(observeGuard(rule('budget-exhausted'), { ...facts, budgetRemaining: -0.2 })).toBe('holds');
    // missing data holds the budget alert where it is
    expect(
      observeGuard(rule('budget-exhausted'), { ...facts, dataCurrent: false, budgetRemaining: -1 }),
    ).toBe('no-data');
    expect(observeGuard(rule('budget-exhausted'), { ...facts, budgetRemaining: null })).toBe('no-data');
  });
});
