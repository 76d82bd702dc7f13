/** Unit tests of the monthly report's pure core: month bounds, weeks, products, policy steps, alert sums. */
import { describe, expect, it } from 'vitest';
import {
  alertsPerWeek,
  countBy,
  deepestPolicyStep,
  type MonthFiring,
  monthBounds,
  monthsEndingWith,
  noiseShareOf,
  noisyRules,
  type ProductSlo,
  productServices,
  weeksOverlapping,
} from './month.js';

const HOUR = 3_600_000;

describe('monthBounds', () => {
  it.each([
    ['2026-11', 'America/New_York', Date.UTC(2026, 10, 1, 4), 721],
    ['2026-03', 'America/New_York', Date.UTC(2026, 2, 1, 5), 743],
    ['2026-02', 'Asia/Tokyo', Date.UTC(2026, 0, 31, 15), 672],
    ['2026-12', 'UTC', Date.UTC(2026, 11, 1), 744],
  ])('cuts %s in %s from local midnight to local midnight', (month, zone, fromMs, hours) => {
    const bounds = monthBounds(month, zone);
    expect(bounds).toEqual({ ok: true, value: { fromMs, toMs: fromMs + hours * HOUR } });
  });

  it('refuses a month or a zone that is not one', () => {
    expect(monthBounds('2026-13', 'UTC').ok).toBe(false);
    expect(monthBounds('2026-1', 'UTC').ok).toBe(false);
    expect(monthBounds('2026-11', 'Mars/Base').ok).toBe(false);
  });
});

describe('monthsEndingWith', () => {
  it('lists six months across a year boundary, oldest first', () => {
    expect(monthsEndingWith('2026-02', 6)).toEqual([
      '2025-09',
      '2025-10',
      '2025-11',
      '2025-12',
      '2026-01',
      '2026-02',
    ]);
  });
});

describe('weeksOverlapping', () => {
  it('gives the Monday-start weeks overlapping November 2026 in New York, the DST week 169 hours long', () => {
    const weeks = weeksOverlapping(Date.UTC(2026, 10, 1, 4), Date.UTC(2026, 11, 1, 5), 'America/New_York');
    expect(weeks.map((w) => w.start)).toEqual([
      '2026-10-26',
      '2026-11-02',
      '2026-11-09',
      '2026-11-16',
      '2026-11-23',
      '2026-11-30',
    ]);
    expect(weeks[0]!.endMs - weeks[0]!.startMs).toBe(169 * HOUR);
  });
});

describe('productServices', () => {
  const slos: ProductSlo[] = [
    { id: 'a', service: 'checkout', owner: 'pay', journey: 'buy', labels: { tier: ['1'] } },
    { id: 'b', service: 'search', owner: 'find', labels: {} },
  ];
  const services = [{ name: 'cart', journey: 'buy', labels: { tier: ['1', '2'] } }];

  it.each([
    ['checkout', ['checkout']],
    ['cart', ['cart']],
    ['owner:pay', ['checkout']],
    ['journey:buy', ['cart', 'checkout']],
    ['label:tier=1', ['cart', 'checkout']],
    ['label:tier=2', ['cart']],
  ])('%s names %j', (product, expected) => {
    expect(productServices(product, slos, services)).toEqual({ ok: true, services: expected });
  });

  it('lists what would have matched when nothing does', () => {
    const miss = productServices('owner:nobody', slos, services);
    expect(miss.ok).toBe(false);
    if (!miss.ok)
      expect(miss.candidates).toEqual(
        expect.arrayContaining(['checkout', 'owner:pay', 'journey:buy', 'label:tier=2']),
      );
    expect(productServices('label:tier', slos, services).ok).toBe(false);
  });
});

describe('deepestPolicyStep', () => {
  const steps = [
    { below: 0.5, action: 'review', gate: 'allow' as const },
    { below: 0.25, action: 'reliability first', gate: 'warn' as const },
    { below: 0, action: 'freeze', gate: 'deny' as const },
  ];
  it.each([
    [0.9, undefined],
    [0.5, 'review'],
    [0.3, 'review'],
    [0.25, 'reliability first'],
    [0, 'freeze'],
    [-1.5, 'freeze'],
  ])('with %f of the budget left reaches %s', (remaining, action) => {
    expect(deepestPolicyStep(steps, remaining)?.action).toBe(action);
    // Order of the steps in the spec does not matter.
    expect(deepestPolicyStep([...steps].reverse(), remaining)?.action).toBe(action);
  });
});

describe('alert sums', () => {
  const f = (
    rule: string,
    tier: string,
    firedAtMs: number,
    verdict?: 'noise' | 'actionable',
  ): MonthFiring => ({
    slo: 's',
    rule,
    tier,
    firedAtMs,
    verdict,
  });
  const firings = [
    f('fast', 'page', 10, 'noise'),
    f('fast', 'page', 20, 'noise'),
    f('fast', 'page', 30, 'actionable'),
    f('slow', 'ticket', 110, 'noise'),
    f('slow', 'ticket', 120),
  ];

  it('counts pages and tickets per week by when they started', () => {
    expect(
      alertsPerWeek(firings, [
        { start: 'w1', startMs: 0, endMs: 100 },
        { start: 'w2', startMs: 100, endMs: 200 },
      ]),
    ).toEqual([
      { start: 'w1', pages: 3, tickets: 0 },
      { start: 'w2', pages: 0, tickets: 2 },
    ]);
  });

  it('shares noise among judged firings and flags rules mostly noise with at least two judged', () => {
    expect(noiseShareOf(firings)).toBe(3 / 4);
    expect(noiseShareOf([f('x', 'page', 1)])).toBeNull();
    expect(noisyRules(firings)).toEqual([{ slo: 's', rule: 'fast', noiseShare: 2 / 3 }]);
  });

  it('counts by key in key order', () => {
    expect(countBy(['P2', 'P0', 'P2'], (p) => p)).toEqual({ P0: 1, P2: 2 });
    expect(Object.keys(countBy(['P2', 'P0'], (p) => p))).toEqual(['P0', 'P2']);
  });
});
