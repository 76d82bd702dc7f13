import { describe, expect, it } from 'vitest';
import {
  alertBurnRate,
  budgetFractionSpent,
  burnRate,
  exhaustionAtMs,
  minuteCeil,
  minuteFloor,
  timeToExhaustionMs,
} from './math.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const PERIOD_30D = 30 * DAY;

describe('burn rate and time to exhaustion', () => {
  it.each([
    [1, 30 * DAY],
    [2, 15 * DAY],
    [10, 3 * DAY],
    [1000, 43.2 * MIN],
  ])('exhausts a full 30-day budget at burn rate %d in the published time', (rate, expectedMs) => {
    expect(timeToExhaustionMs(1, PERIOD_30D, rate)).toBeCloseTo(expectedMs, 6);
  });

  it.each([
    [0.001, 1],
    [0.002, 2],
    [0.01, 10],
    [1, 1000],
  ])('turns error ratio %d at 99.9%% into burn rate %d', (ratio, expected) => {
    expect(burnRate(ratio, 0.999)).toBeCloseTo(expected, 9);
  });

  it('scales time to exhaustion by the remaining fraction', () => {
    expect(timeToExhaustionMs(0.5, PERIOD_30D, 2)).toBe(7.5 * DAY);
  });

  it('returns 0 when the budget is already spent and null when not burning', () => {
    expect(timeToExhaustionMs(0, PERIOD_30D, 5)).toBe(0);
    expect(timeToExhaustionMs(-0.3, PERIOD_30D, null)).toBe(0);
    expect(timeToExhaustionMs(0.5, PERIOD_30D, 0)).toBeNull();
    expect(timeToExhaustionMs(0.5, PERIOD_30D, null)).toBeNull();
  });

  it('puts exhaustion at `at` when the budget is spent, and later otherwise', () => {
    expect(exhaustionAtMs(1_000, -0.1, PERIOD_30D, 3)).toBe(1_000);
    expect(exhaustionAtMs(1_000, 1, PERIOD_30D, 1000)).toBe(1_000 + 43.2 * MIN);
    expect(exhaustionAtMs(1_000, 1, PERIOD_30D, null)).toBeNull();
  });

  it('says never (null) when exhaustion lies beyond what a Date can hold, instead of an invalid Date', () => {
    // 1e13 good events then a few errors: a burn rate of ~1e-10 puts exhaustion ~10^17 ms ahead.
    expect(exhaustionAtMs(Date.UTC(2026, 0, 1), 1, PERIOD_30D, 1e-10)).toBeNull();
    expect(exhaustionAtMs(0, 1, PERIOD_30D, Number.MIN_VALUE)).toBeNull();
    // The last representable instant is still an answer.
    expect(exhaustionAtMs(8.64e15 - 1_000, 1, 1_000, 1)).toBe(8.64e15);
  });
});

describe('SRE Workbook multiwindow alert thresholds', () => {
  it.each([
    [0.02, HOUR, 14.4],
    [0.05, 6 * HOUR, 6],
    [0.1, DAY, 3],
    [0.1, 3 * DAY, 1],
  ])('spends %d of a 30-day budget over a window of %d ms at burn rate %d', (fraction, windowMs, rate) => {
    expect(alertBurnRate(fraction, PERIOD_30D, windowMs)).toBeCloseTo(rate, 9);
    expect(budgetFractionSpent(rate, windowMs, PERIOD_30D)).toBeCloseTo(fraction, 12);
  });
});

describe('minute rounding', () => {
  it('floors and ceils to whole minutes, negative epochs included', () => {
    expect(minuteFloor(59_999)).toBe(0);
    expect(minuteFloor(-1)).toBe(-1);
    expect(minuteCeil(1)).toBe(1);
    expect(minuteCeil(120_000)).toBe(2);
  });
});
