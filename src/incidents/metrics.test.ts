import { describe, expect, it } from 'vitest';
import { responseMetrics } from './metrics.js';

const MIN = 60_000;
const incident = (m: Record<string, number>, extra: { drill?: boolean; status?: string } = {}) => ({
  milestones: Object.fromEntries(Object.entries(m).map(([k, v]) => [k, v * MIN])),
  drill: extra.drill ?? false,
  status: extra.status ?? 'resolved',
});

describe('responseMetrics', () => {
  it('gives count, median and p90 of TTD, TTA, TTM and TTR in minutes', () => {
    const metrics = responseMetrics([
      incident({ impactStartedAt: 0, detectedAt: 5, acknowledgedAt: 7, mitigatedAt: 20, resolvedAt: 60 }),
      incident({ impactStartedAt: 0, detectedAt: 10, acknowledgedAt: 11, mitigatedAt: 40, resolvedAt: 90 }),
      incident({ detectedAt: 0, acknowledgedAt: 30, mitigatedAt: 100, resolvedAt: 300 }),
      incident({ impactStartedAt: 0, detectedAt: 1 }, { drill: true }),
      incident({ impactStartedAt: 0, detectedAt: 1 }, { status: 'cancelled' }),
    ]);
    expect(metrics.incidents).toBe(3);
    expect(metrics.ttd).toEqual({ count: 2, medianMinutes: 7.5, p90Minutes: 10 });
    expect(metrics.tta).toEqual({ count: 3, medianMinutes: 2, p90Minutes: 30 });
    expect(metrics.ttm).toEqual({ count: 3, medianMinutes: 40, p90Minutes: 100 });
    expect(metrics.ttr).toEqual({ count: 3, medianMinutes: 90, p90Minutes: 300 });
  });

  it('has no figures without incidents', () => {
    expect(responseMetrics([]).ttr).toEqual({ count: 0, medianMinutes: null, p90Minutes: null });
  });
});
