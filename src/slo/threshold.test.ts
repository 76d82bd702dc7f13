import { describe, expect, it } from 'vitest';
import { meets } from './threshold.js';

describe('meets: an SLI value at the threshold itself', () => {
  it.each([
    ['lt', 299.999, true],
    ['lt', 300, false],
    ['lte', 300, true],
    ['lte', 300.001, false],
    ['gt', 300, false],
    ['gt', 300.001, true],
    ['gte', 300, true],
    ['gte', 299.999, false],
  ] as const)('%s 300 with %d is %s', (op, value, good) => {
    expect(meets(value, op, 300)).toBe(good);
  });
});

describe('meets: a burn rate against an alert factor', () => {
  it('compares with the operator and never fires on no data', () => {
    expect(meets(14.5, 'gt', 14.4)).toBe(true);
    expect(meets(14.4, 'gt', 14.4)).toBe(false);
    expect(meets(14.4, 'gte', 14.4)).toBe(true);
    expect(meets(0.5, 'lt', 1)).toBe(true);
    expect(meets(null, 'gte', 0)).toBe(false);
    expect(meets(Number.NaN, 'gte', 0)).toBe(false);
  });
});
