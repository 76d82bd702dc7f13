import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fixedDurationMs, formatDuration, parseDuration, promDuration } from './duration.js';

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
});

describe('promDuration', () => {
  it.each([
    [300_000, '5m'],
    [1_800_000, '30m'],
    [3_600_000, '1h'],
    [5_400_000, '1h30m'],
    [86_400_000, '1d'],
    [36 * 3_600_000, '1d12h'],
    [30 * 86_400_000, '30d'],
    [28 * 86_400_000, '4w'],
    [7 * 86_400_000, '1w'],
    [90 * 86_400_000, '90d'],
    [365 * 86_400_000, '1y'],
    [1_500, '1s500ms'],
    [0, '0s'],
  ])('prints %d ms as %s (weeks and years only when exact)', (ms, text) => {
    expect(promDuration(ms)).toBe(text);
  });
});
