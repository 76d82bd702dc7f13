import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  analyseRisks,
  badMinutesPerYear,
  incidentsPerYear,
  MINUTES_PER_YEAR,
  whatIf,
  yearlyBudgetMinutes,
} from './analysis.js';
import { testRisk as risk, testRiskFactor } from './testing.js';

const noRunbook = testRiskFactor();

const SLOS = [
  { id: 'checkout-availability', service: 'checkout', target: 0.999 },
  { id: 'search-availability', service: 'search', target: 0.99 },
];

describe('the risk formulas (published worked row)', () => {
  it.each([
    // ETTD, ETTR, impact, ETTF days → incidents/yr, bad min/yr, share of a 99.9% budget
    [5, 30, 1, 30, 12.175, 426.125, 0.81],
    [10, 50, 0.5, 365.25, 1, 30, 0.057],
    [1, 4, 0.1, 7, 52.178_571, 26.089_286, 0.0496],
  ])(
    'ETTD %s, ETTR %s, impact %s, ETTF %s d → %s/yr, %s bad min/yr, %s of the budget',
    (ettd, ettr, impact, ettf, perYear, bad, share) => {
      const estimate = { ettdMinutes: ettd, ettrMinutes: ettr, impact, ettfDays: ettf };
      expect(incidentsPerYear(ettf)).toBeCloseTo(perYear, 5);
      expect(badMinutesPerYear(estimate)).toBeCloseTo(bad, 5);
      expect(badMinutesPerYear(estimate) / yearlyBudgetMinutes(0.999)).toBeCloseTo(share, 3);
    },
  );

  it('takes a year as 525,960 minutes: a 99.9% budget is 525.96 minutes', () => {
    expect(MINUTES_PER_YEAR).toBe(525_960);
    expect(yearlyBudgetMinutes(0.999)).toBe(525.96);
    expect(yearlyBudgetMinutes(0.9999)).toBe(52.596);
    expect(yearlyBudgetMinutes(0.95)).toBe(26_298);
  });
});

describe('analyseRisks', () => {
  it('ranks by bad minutes, applies factors, flags a risk above 25% and a budget the risks exceed', () => {
    const analysis = analyseRisks({
      risks: [
        risk(),
        risk({
          name: 'bad-deploy',
          ettdMinutes: 10,
          ettrMinutes: 20,
          impact: 0.5,
          ettfDays: 14,
          factors: ['no-runbook'],
        }),
        risk({
          name: 'cert-expiry',
          ettdMinutes: 60,
          ettrMinutes: 30,
          ettfDays: 365.25,
          status: 'mitigated',
        }),
        risk({ name: 'search-index', service: 'search', slos: ['search-availability'], ettfDays: 90 }),
      ],
      factors: [noRunbook],
      slos: SLOS,
    });
    expect(analysis.risks.map((r) => [r.name, Math.round(r.badMinutesPerYear * 1000) / 1000])).toEqual([
      ['bad-deploy', 782.679], // (10 + 20 + 30) × 0.5 × 26.089…
      ['db-failover-manual', 426.125],
      ['search-index', 142.042],
      ['cert-expiry', 90],
    ]);
    const badDeploy = analysis.risks[0]!;
    expect(badDeploy.effective.ettrMinutes).toBe(50);
    expect(badDeploy.estimate.ettrMinutes).toBe(20);
    expect(badDeploy.tooBig).toBe(true);
    expect(analysis.risks.find((r) => r.name === 'cert-expiry')!.tooBig).toBe(false); // mitigated
    const search = analysis.risks.find((r) => r.name === 'search-index')!;
    expect(search.shares).toEqual([
      {
        slo: 'search-availability',
        yearlyBudgetMinutes: expect.closeTo(5259.6, 6),
        share: expect.closeTo(0.027, 3),
        tooBig: false,
      },
    ]);
    expect(analysis.slos).toEqual([
      {
        slo: 'checkout-availability',
        service: 'checkout',
        target: 0.999,
        yearlyBudgetMinutes: expect.closeTo(525.96, 9),
        risks: ['bad-deploy', 'db-failover-manual'],
        badMinutesPerYear: expect.closeTo(1208.804, 3),
        share: expect.closeTo(2.298, 3),
        achievable: false,
      },
      expect.objectContaining({ slo: 'search-availability', achievable: true }),
    ]);
  });

  it('takes the too-big share from the caller', () => {
    expect(
      analyseRisks({ risks: [risk()], factors: [], slos: SLOS }, { tooBigShare: 0.9 }).risks[0]!.tooBig,
    ).toBe(false);
  });

  it('answers what-if: finishing an action item that halves ETTR', () => {
    expect(whatIf({ ettdMinutes: 5, ettrMinutes: 30, impact: 1, ettfDays: 30 }, { ettrMinutes: 15 })).toEqual(
      {
        before: expect.closeTo(426.125, 9),
        after: expect.closeTo(243.5, 9),
        savedMinutesPerYear: expect.closeTo(182.625, 9),
      },
    );
  });

  it('never has fewer bad minutes for a slower detection or repair, a larger impact or more frequent failures', () => {
    const estimate = fc.record({
      ettdMinutes: fc.double({ min: 0, max: 1e4, noNaN: true }),
      ettrMinutes: fc.double({ min: 0, max: 1e4, noNaN: true }),
      impact: fc.double({ min: 1e-6, max: 1, noNaN: true }),
      ettfDays: fc.double({ min: 1e-3, max: 1e4, noNaN: true }),
    });
    fc.assert(
      fc.property(estimate, fc.double({ min: 0, max: 1e3, noNaN: true }), (e, more) => {
        const base = badMinutesPerYear(e);
        expect(badMinutesPerYear({ ...e, ettdMinutes: e.ettdMinutes + more })).toBeGreaterThanOrEqual(base);
        expect(badMinutesPerYear({ ...e, ettrMinutes: e.ettrMinutes + more })).toBeGreaterThanOrEqual(base);
        expect(badMinutesPerYear({ ...e, ettfDays: e.ettfDays + more })).toBeLessThanOrEqual(
          base * (1 + 1e-12),
        );
        expect(badMinutesPerYear({ ...e, impact: Math.min(1, e.impact * 2) })).toBeGreaterThanOrEqual(base);
      }),
    );
  });
});
