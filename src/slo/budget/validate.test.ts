import { describe, expect, it } from 'vitest';
import { duration } from '../duration.js';
import type { ObjectiveSpec } from './types.js';
import { validateObjective } from './validate.js';

const MIN = 60_000;

function objective(overrides: Partial<ObjectiveSpec> = {}): ObjectiveSpec {
  return {
    target: 0.999,
    method: 'Timeslices',
    timeSliceTarget: 0.95,
    timeSliceMs: MIN,
    window: { kind: 'rolling', duration: duration('30d'), windowMs: 30 * 1_440 * MIN },
    noData: 'excluded',
    adjustments: [],
    burnWindows: [{ label: '1h', windowMs: 60 * MIN }],
    currentBurnWindowMs: 60 * MIN,
    minDataCoverage: 0.9,
    ...overrides,
  };
}

describe('validateObjective', () => {
  it('accepts a complete spec', () => {
    expect(validateObjective(objective())).toEqual([]);
  });

  it.each<[string, Partial<ObjectiveSpec>, string]>([
    ['a target of 1', { target: 1 }, 'target'],
    ['a slice that is not whole minutes', { timeSliceMs: 90_000 }, 'timeSliceMs'],
    ['Timeslices without a slice target', { timeSliceTarget: undefined }, 'timeSliceTarget'],
    [
      'a rolling month',
      { window: { kind: 'rolling', duration: duration('1M'), windowMs: 0 } },
      'window.duration',
    ],
    [
      'a rolling window that is not whole slices',
      { timeSliceMs: 7 * MIN, window: { kind: 'rolling', duration: duration('1h'), windowMs: 60 * MIN } },
      'timeSliceMs',
    ],
    [
      'an unknown time zone',
      {
        window: {
          kind: 'calendar',
          duration: duration('1M'),
          startTime: '2026-01-01 00:00:00',
          timeZone: 'Tokyo',
        },
      },
      'window.timeZone',
    ],
    [
      'a one-off that ends before it starts',
      { adjustments: [{ kind: 'one-off', startMs: 10, endMs: 5 }] },
      'adjustments.0',
    ],
    [
      'a recurrence without DTSTART',
      { adjustments: [{ kind: 'recurring', rrule: 'RRULE:FREQ=DAILY', durationMs: MIN }] },
      'adjustments.0.rrule',
    ],
    [
      'a repeated burn-window label',
      {
        burnWindows: [
          { label: '1h', windowMs: 60 * MIN },
          { label: '1h', windowMs: 60 * MIN },
        ],
      },
      'burnWindows.1.label',
    ],
    [
      'a burn window named like the period',
      { burnWindows: [{ label: '30d', windowMs: MIN }] },
      'burnWindows.0.label',
    ],
    ['a coverage above 1', { minDataCoverage: 1.5 }, 'minDataCoverage'],
  ])('reports %s on its field', (_name, overrides, field) => {
    expect(validateObjective(objective(overrides)).map((i) => i.field)).toContain(field);
  });
});
