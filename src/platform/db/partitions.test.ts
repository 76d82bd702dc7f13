import { describe, expect, it } from 'vitest';
import { parseRangeBound, WEEK_MS, weekPartitionName, weekStart, weeksBetween } from './partitions.js';

describe('week partitions', () => {
  it('start on Monday 00:00 UTC, before 1970 too', () => {
    expect(weekStart(Date.UTC(2026, 11, 7, 12, 34))).toBe(Date.UTC(2026, 11, 7));
    expect(weekStart(Date.UTC(2026, 11, 13, 23, 59))).toBe(Date.UTC(2026, 11, 7));
    expect(weekStart(Date.UTC(2026, 11, 14))).toBe(Date.UTC(2026, 11, 14));
    expect(weekStart(0)).toBe(Date.UTC(1969, 11, 29));
    expect(weekStart(-1)).toBe(Date.UTC(1969, 11, 29));
    expect(new Date(weekStart(-10 * WEEK_MS - 5)).getUTCDay()).toBe(1);
  });

  it('are named by their Monday, and not at all outside four-digit years', () => {
    expect(weekPartitionName(Date.UTC(2026, 11, 7))).toBe('sli_minutes_w20261207');
    expect(weekPartitionName(Date.UTC(1969, 11, 29))).toBe('sli_minutes_w19691229');
    expect(weekPartitionName(Date.UTC(10_000, 0, 3))).toBeNull();
    expect(weekPartitionName(Number.NaN)).toBeNull();
  });

  it('cover a range with the weeks it touches', () => {
    const monday = Date.UTC(2026, 11, 7);
    expect(weeksBetween(monday + 1, monday + WEEK_MS)).toEqual([monday]);
    expect(weeksBetween(monday - 1, monday + WEEK_MS + 1)).toEqual([
      monday - WEEK_MS,
      monday,
      monday + WEEK_MS,
    ]);
    expect(weeksBetween(monday, monday)).toEqual([]);
  });

  it('read their bounds from the catalog text', () => {
    expect(parseRangeBound("FOR VALUES FROM ('1765152000000') TO ('1765756800000')")).toEqual({
      fromMs: 1765152000000,
      toMs: 1765756800000,
    });
    expect(parseRangeBound('FOR VALUES FROM (-345600000) TO (259200000)')).toEqual({
      fromMs: -345600000,
      toMs: 259200000,
    });
    expect(parseRangeBound('DEFAULT')).toBeNull();
  });
});
