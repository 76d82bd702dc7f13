import { describe, expect, it } from 'vitest';
import { combineComposite } from './composite.js';
import type { BudgetStatus } from './types.js';

const MIN = 60_000;
const DAY = 1_440 * MIN;
const AT = Date.UTC(2026, 0, 31);

function status(overrides: Partial<BudgetStatus>): BudgetStatus {
  return {
    at: AT,
    period: { startMs: AT - 30 * DAY, endMs: AT },
    sli: 0.999,
    budget: { unit: 'events', total: 100, consumed: 50, remaining: 0.5 },
    burnRates: { '1h': 1, '30d': 0.5 },
    windowEvents: { '1h': 100, '30d': 10_000 },
    currentBurnRate: 1,
    exhaustionAt: AT + 15 * DAY,
    dataSufficient: true,
    coverage: 1,
    ...overrides,
  };
}

describe('combineComposite', () => {
  it('weights SLI, remaining budget and burn rates by the parts’ weights', () => {
    const combined = combineComposite([
      {
        status: status({ sli: 0.99, budget: { unit: 'events', total: 10, consumed: 10, remaining: 0 } }),
        weight: 1,
        target: 0.99,
      },
      {
        status: status({ sli: 0.999, burnRates: { '1h': 4, '30d': 1 }, currentBurnRate: 4 }),
        weight: 3,
        target: 0.999,
      },
    ]);
    expect(combined.sli).toBeCloseTo((0.99 + 3 * 0.999) / 4, 12);
    expect(combined.budget.remaining).toBeCloseTo((0 + 3 * 0.5) / 4, 12);
    expect(combined.burnRates).toEqual({ '1h': 13 / 4, '30d': 3.5 / 4 });
    expect(combined.currentBurnRate).toBe(13 / 4);
  });

  it('reports the budget in minutes-equivalent of the weighted target so remaining = 1 − consumed/total', () => {
    const combined = combineComposite([
      { status: status({}), weight: 1, target: 0.99 },
      {
        status: status({ budget: { unit: 'minutes', total: 43.2, consumed: 43.2, remaining: 0 } }),
        weight: 1,
        target: 0.999,
      },
    ]);
    const target = (0.99 + 0.999) / 2;
    expect(combined.budget.unit).toBe('minutes');
    expect(combined.budget.total).toBeCloseTo((1 - target) * 30 * 1_440, 9);
    expect(1 - combined.budget.consumed / combined.budget.total).toBeCloseTo(combined.budget.remaining, 12);
  });

  it('leaves parts without data out of the SLI and burn-rate averages', () => {
    const combined = combineComposite([
      {
        status: status({ sli: null, burnRates: { '1h': null, '30d': null }, currentBurnRate: null }),
        weight: 5,
        target: 0.99,
      },
      { status: status({ sli: 0.98 }), weight: 1, target: 0.99 },
    ]);
    expect(combined.sli).toBe(0.98);
    expect(combined.burnRates['1h']).toBe(1);
  });

  it('computes exhaustion from the combined current burn rate and remaining budget', () => {
    const combined = combineComposite([
      { status: status({}), weight: 1, target: 0.99 },
      { status: status({ currentBurnRate: 3 }), weight: 1, target: 0.99 },
    ]);
    expect(combined.exhaustionAt).toBe(AT + Math.round((0.5 * 30 * DAY) / 2));
  });

  it('is data-sufficient only when every part is, with the lowest coverage', () => {
    const combined = combineComposite([
      { status: status({}), weight: 1, target: 0.99 },
      { status: status({ dataSufficient: false, coverage: 0.5 }), weight: 1, target: 0.99 },
    ]);
    expect(combined.dataSufficient).toBe(false);
    expect(combined.coverage).toBe(0.5);
  });

  it('throws when a weight is not positive, there are no parts or the instants differ', () => {
    expect(() => combineComposite([{ status: status({}), weight: 0, target: 0.99 }])).toThrow(RangeError);
    expect(() => combineComposite([])).toThrow(RangeError);
    expect(() =>
      combineComposite([
        { status: status({}), weight: 1, target: 0.99 },
        { status: status({ at: AT + 1 }), weight: 1, target: 0.99 },
      ]),
    ).toThrow(RangeError);
  });
});
