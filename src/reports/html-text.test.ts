/** Unit tests of the report's words and formats in English and Japanese. */
import { describe, expect, it } from 'vitest';
import { formats, HTML_TEXT } from './html-text.js';

describe('formats', () => {
  it('formats shares, amounts and durations per language', () => {
    const en = formats('en', 'Asia/Tokyo');
    const ja = formats('ja', 'Asia/Tokyo');
    expect(en.nines(0.99812)).toBe('99.812%');
    expect(en.nines(0.999)).toBe('99.90%');
    expect(en.percent(1.879)).toBe('187.9%');
    expect(en.points(-0.00105)).toBe('-0.11');
    expect(en.amount(24_130, 'events')).toBe('24,130 events');
    expect(ja.amount(300.5, 'minutes')).toBe('300.5分');
    expect(en.duration(390_000)).toBe('6 min 30 s');
    expect(ja.duration(390_000)).toBe('6分30秒');
    expect(en.duration(2 * 3_600_000 + 17 * 60_000)).toBe('2 h 17 min');
    expect(ja.duration(26 * 3_600_000)).toBe('1日2時間');
    expect(en.duration(0)).toBe('0 s');
  });

  it('writes dates in the zone given', () => {
    const ms = Date.parse('2026-11-30T20:00:00Z');
    expect(formats('en', 'Asia/Tokyo').date(ms)).toBe('Dec 1, 2026');
    expect(formats('en', 'America/New_York').date(ms)).toBe('Nov 30, 2026');
    expect(formats('ja', 'Asia/Tokyo').date(ms)).toBe('2026年12月1日');
    expect(formats('ja', 'Asia/Tokyo').shortMonth('2026-06')).toBe('2026年6月');
    expect(formats('en', 'Asia/Tokyo').shortMonth('2026-06')).toBe('Jun 2026');
    expect(formats('en', 'UTC').isoDate('not a date')).toBe('not a date');
  });

  it('names the month in both languages', () => {
    expect(HTML_TEXT.en.period('2026-11', 'Asia/Tokyo')).toBe('November 2026 (Asia/Tokyo)');
    expect(HTML_TEXT.ja.period('2026-11', 'Asia/Tokyo')).toBe('2026年11月（Asia/Tokyo）');
  });

  it('has the same keys in both languages', () => {
    const keys = (value: unknown, prefix = ''): string[] =>
      value && typeof value === 'object'
        ? Object.entries(value).flatMap(([k, v]) => keys(v, `${prefix}${k}.`))
        : [prefix];
    expect(keys(HTML_TEXT.ja).sort()).toEqual(keys(HTML_TEXT.en).sort());
  });
});
