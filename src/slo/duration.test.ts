import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fixedDurationMs, formatDuration, formatMs, parseDuration } from './duration.js';

describe('parseDuration', () => {
  it.each([
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['28d', 28 * 86_400_000],
    ['2w', 14 * 86_400_000],
  ])('parses %s as a fixed length', (text, ms) => {
    const parsed = parseDuration(text);
    expect(parsed.ok && fixedDurationMs(parsed.value)).toBe(ms);
  });

  it('keeps m (minute) and M (month) apart', () => {
    const minute = parseDuration('1m');
    const month = parseDuration('1M');
    expect(minute.ok && minute.value.unit).toBe('m');
    expect(month.ok && month.value.unit).toBe('M');
    expect(month.ok && fixedDurationMs(month.value)).toBeUndefined();
  });

  it.each(['', '0d', '-1d', '1.5h', '1s', '1 d', 'd', '1D', '01d'])('rejects %j with a reason', (text) => {
    const parsed = parseDuration(text);
    expect(parsed.ok).toBe(false);
  });

  it('round-trips every valid shorthand', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100_000 }), fc.constantFrom(...'mhdwMQY'), (n, unit) => {
        const parsed = parseDuration(`${n}${unit}`);
        expect(parsed.ok && formatDuration(parsed.value)).toBe(`${n}${unit}`);
      }),
    );
  });

  it('formats milliseconds with the largest whole unit', () => {
    expect(formatMs(86_400_000)).toBe('1d');
    expect(formatMs(90 * 60_000)).toBe('90m');
    expect(formatMs(30 * 86_400_000)).toBe('30d');
  });
});
