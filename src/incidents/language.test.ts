import { describe, expect, it } from 'vitest';
import { writeUpFormat } from './language.js';

const T = Date.UTC(2026, 10, 23, 10, 0, 30);

describe('writeUpFormat', () => {
  it('keeps English times in ISO 8601 UTC and durations in minutes', () => {
    const en = writeUpFormat();
    expect(en.time(T)).toBe('2026-11-23T10:00:30Z');
    expect(en.time(Date.UTC(2026, 10, 23, 10))).toBe('2026-11-23T10:00:00Z');
    expect(en.time(undefined)).toBe('—');
    expect(en.duration(95)).toBe('95 min');
    expect(en.count(5000.4)).toBe('5000');
    expect(en.percent(0.1748)).toBe('17.5%');
    expect(en.list(['a', 'b'])).toBe('a, b');
  });

  it('shows Japanese times in the team time zone with its abbreviation', () => {
    expect(writeUpFormat({ language: 'ja', timeZone: 'Asia/Tokyo' }).time(T)).toBe('2026/11/23 19:00 JST');
    expect(writeUpFormat({ language: 'ja' }).time(T)).toBe('2026/11/23 10:00 UTC');
    // Across midnight and the date line: the date is the team's date.
    expect(
      writeUpFormat({ language: 'ja', timeZone: 'Asia/Tokyo' }).time(Date.UTC(2026, 10, 23, 15, 30)),
    ).toBe('2026/11/24 00:30 JST');
    expect(writeUpFormat({ language: 'ja', timeZone: 'Asia/Tokyo' }).time(undefined)).toBe('—');
  });

  it('writes Japanese durations in the two largest units, counts with grouping', () => {
    const ja = writeUpFormat({ language: 'ja' });
    expect(ja.duration(0)).toBe('0 分');
    expect(ja.duration(30)).toBe('30 分');
    expect(ja.duration(60)).toBe('1 時間');
    expect(ja.duration(95)).toBe('1 時間 35 分');
    expect(ja.duration(24 * 60 + 3 * 60 + 20)).toBe('1 日 3 時間');
    expect(ja.duration(2 * 24 * 60)).toBe('2 日');
    expect(ja.duration(-5)).toBe('-5 分');
    expect(ja.count(1234567.6)).toBe('1,234,568');
    expect(ja.percent(0.174)).toBe('17.4%');
    expect(ja.list(['checkout', 'payments'])).toBe('checkout、payments');
  });
});
