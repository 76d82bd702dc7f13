import { describe, expect, it } from 'vitest';
import { MAX_POINTS, RANGES, refreshMsFor, stepFor } from './history';

describe('history step', () => {
  it('keeps every range under the API limit of 10,000 points', () => {
    expect(stepFor(RANGES['24h'])).toBe('1m');
    expect(stepFor(RANGES['7d'])).toBe('5m');
    expect(stepFor(RANGES['30d'])).toBe('5m');
    expect(stepFor(90 * 86_400_000)).toBe('15m');
    expect(MAX_POINTS).toBeLessThan(10_000);
  });

  it('fetches a range again once per step, at most once a minute', () => {
    expect(refreshMsFor(RANGES['24h'])).toBe(60_000);
    expect(refreshMsFor(RANGES['30d'])).toBe(300_000);
    expect(stepFor(10 * 365 * 86_400_000)).toBe('1d');
  });
});
