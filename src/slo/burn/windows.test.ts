import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sharedFixture } from '../../../test/support/fixtures.js';
import { loadSpecs } from '../spec/load.js';
import {
  type AlertWindowSet,
  burnRateFactor,
  burnRateFactors,
  distinctWindowsMs,
  goHours,
  SLOTH_WINDOWS_28D,
  SLOTH_WINDOWS_30D,
  windowsForPeriod,
  windowsFromDefinition,
} from './windows.js';

const DAY_MS = 86_400_000;

async function fixtureWindows(): Promise<AlertWindowSet> {
  const result = await loadSpecs(sharedFixture('sloth/windows/7d.yaml'));
  expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return windowsFromDefinition(result.alertWindows[0]!);
}

describe('burn-rate factors (budget% × period / long window)', () => {
  it('are the Workbook’s 14.4, 6, 3 and 1 for Sloth’s 30-day windows', () => {
    expect(burnRateFactors(SLOTH_WINDOWS_30D)).toEqual({
      pageQuick: 14.4,
      pageSlow: 6,
      ticketQuick: 3,
      ticketSlow: 1,
    });
  });

  it('are 13.44, 5.6, 2.8 and 0.933… for Sloth’s 28-day windows, to the bit Sloth computes', () => {
    const f = burnRateFactors(SLOTH_WINDOWS_28D);
    expect([f.pageQuick, f.pageSlow, f.ticketQuick, f.ticketSlow]).toEqual([
      13.44, 5.6000000000000005, 2.8000000000000003, 0.9333333333333333,
    ]);
    expect(f.pageSlow).toBeCloseTo(5.6, 12);
    expect(f.ticketQuick).toBeCloseTo(2.8, 12);
    expect(f.ticketSlow).toBeCloseTo(28 / 30, 12);
  });

  it('are 13.44, 3.5, 1.4 and 0.98 for the 7-day AlertWindows fixture (8%, 12.5%, 20%, 42%)', async () => {
    const windows = await fixtureWindows();
    expect(windows.periodMs).toBe(7 * DAY_MS);
    const f = burnRateFactors(windows);
    expect([f.pageQuick, f.pageSlow, f.ticketQuick, f.ticketSlow]).toEqual([
      13.44, 3.5, 1.4000000000000001, 0.98,
    ]);
  });

  it('burn exactly the window’s share of the budget over its long window', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 400 }),
        fc.double({ min: 0.1, max: 100, noNaN: true }),
        fc.integer({ min: 1, max: 72 }),
        (periodDays, percent, longHours) => {
          const window = {
            errorBudgetPercent: percent,
            shortWindowMs: 60_000,
            longWindowMs: longHours * 3_600_000,
          };
          const factor = burnRateFactor(periodDays * DAY_MS, window);
          expect((factor * longHours) / (periodDays * 24)).toBeCloseTo(percent / 100, 9);
        },
      ),
    );
  });
});

describe('windowsForPeriod', () => {
  it('uses Sloth’s defaults for 30 and 28 days', () => {
    expect(windowsForPeriod(30 * DAY_MS)).toMatchObject({
      ok: true,
      source: 'sloth-default',
      windows: SLOTH_WINDOWS_30D,
    });
    expect(windowsForPeriod(28 * DAY_MS)).toMatchObject({
      ok: true,
      source: 'sloth-default',
      windows: SLOTH_WINDOWS_28D,
    });
  });

  it('scales the Workbook windows to another period by the formula', () => {
    const choice = windowsForPeriod(7 * DAY_MS);
    if (!choice.ok) throw new Error(choice.error);
    expect(choice.source).toBe('workbook-scaled');
    const f = burnRateFactors(choice.windows);
    expect(f.pageQuick).toBeCloseTo(3.36, 12);
    expect(f.pageSlow).toBeCloseTo(1.4, 12);
    expect(f.ticketQuick).toBeCloseTo(0.7, 12);
    expect(f.ticketSlow).toBeCloseTo(7 / 30, 12);
  });

  it('prefers a custom catalog for its period over the defaults', async () => {
    const custom = { ...(await fixtureWindows()), periodMs: 30 * DAY_MS };
    expect(windowsForPeriod(30 * DAY_MS, [custom])).toMatchObject({
      ok: true,
      source: 'custom',
      windows: custom,
    });
    expect(windowsForPeriod(28 * DAY_MS, [custom])).toMatchObject({ ok: true, source: 'sloth-default' });
  });

  it('refuses a period shorter than the 3-day long window', () => {
    const choice = windowsForPeriod(DAY_MS);
    expect(choice.ok).toBe(false);
    expect(!choice.ok && choice.error).toMatch(/1d is shorter than the 3d alert window.*--windows/);
  });
});

describe('distinctWindowsMs', () => {
  it('lists each window once, shortest first, as Sloth records them', () => {
    expect(distinctWindowsMs(SLOTH_WINDOWS_30D)).toEqual(
      [5, 30, 60, 120, 360, 1440, 4320].map((minutes) => minutes * 60_000),
    );
  });
});

describe('goHours', () => {
  it('equals ms / 1h for whole and fractional hours', () => {
    expect(goHours(720 * 3_600_000)).toBe(720);
    expect(goHours(300_000)).toBe(300_000 / 3_600_000);
  });
});
