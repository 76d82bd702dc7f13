import { describe, expect, it } from 'vitest';
import type { Incident } from '../incidents/index.js';
import { analyseRisks } from './analysis.js';
import { calibrate } from './calibration.js';
import { testRisk } from './testing.js';

const MIN = 60_000;
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);
const risk = testRisk();
let n = 0;
const incident = (at: number, ttd: number, ttr: number, over: Partial<Incident> = {}): Incident => {
  n += 1;
  return {
    id: String(n),
    number: n,
    reference: `INC-${n}`,
    title: 't',
    summary: '',
    severity: 'SEV2',
    status: 'closed',
    services: ['checkout'],
    slos: [],
    labels: { risk: 'db-failover-manual' },
    drill: false,
    runbooks: [],
    milestones: { impactStartedAt: at, detectedAt: at + ttd * MIN, mitigatedAt: at + (ttd + ttr) * MIN },
    createdAtMs: at,
    updatedAtMs: at,
    ...over,
  };
};

describe('calibrate', () => {
  const { risks } = analyseRisks({ risks: [risk], factors: [], slos: [] });

  it('puts the measured medians beside the estimates and offers the spec lines', () => {
    const [c] = calibrate(risks, [
      incident(T0, 12, 50),
      incident(T0 + 20 * DAY, 8, 70),
      incident(T0 + 60 * DAY, 10, 40),
      incident(T0 + 70 * DAY, 1, 1, { drill: true }),
      incident(T0 + 80 * DAY, 1, 1, { labels: { risk: 'other' } }),
    ]);
    expect(c).toMatchObject({
      risk: 'db-failover-manual',
      incidents: ['INC-1', 'INC-2', 'INC-3'],
      measured: { ttdMinutes: 10, ttrMinutes: 50, tbfDays: 30 },
      suggested: { ettdMinutes: 10, ettrMinutes: 50, impact: 1, ettfDays: 30 },
      specUpdate: 'ettd: 10m\nettr: 50m',
    });
    // (10 + 50) × 12.175 = 730.5 against the estimated (5 + 30) × 12.175 = 426.125.
    expect(c!.badMinutesPerYear.estimated).toBeCloseTo(426.125, 9);
    expect(c!.badMinutesPerYear.measured).toBeCloseTo(730.5, 9);
  });

  it('leaves unmeasured estimates alone and skips risks without incidents', () => {
    const [c] = calibrate(risks, [incident(T0, 5, 30, { milestones: { detectedAt: T0 } })]);
    expect(c).toMatchObject({
      measured: { ttdMinutes: null, ttrMinutes: null, tbfDays: null },
      specUpdate: '',
    });
    expect(calibrate(risks, [])).toEqual([]);
  });
});
