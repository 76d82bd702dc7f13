import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chartEndMs, MAX_POINTS, RANGES, refreshMsFor, stepFor } from './history';

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

  it('ends a chart at now rounded down to its step, so viewers within one step share a range', () => {
    const now = Date.UTC(2026, 11, 7, 19, 23, 41);
    expect(new Date(chartEndMs(now, RANGES['24h'])).toISOString()).toBe('2026-12-07T19:23:00.000Z');
    expect(new Date(chartEndMs(now, RANGES['30d'])).toISOString()).toBe('2026-12-07T19:20:00.000Z');
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4_000_000_000_000 }),
        fc.constantFrom(...Object.values(RANGES)),
        (nowMs, rangeMs) => {
          const end = chartEndMs(nowMs, rangeMs);
          const stepMs = refreshMsFor(rangeMs);
          // Never in the future, never more than one step (one refresh) behind.
          return end <= nowMs && nowMs - end < stepMs && end % stepMs === 0;
        },
      ),
    );
  });
});
