import { describe, expect, it } from 'vitest';
import { AdjustmentSchedule, excludedIntervals, MinuteExclusion, Recurrence } from './adjustments.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

describe('excludedIntervals', () => {
  it('gives the weekly Sunday 02:00–04:00 Asia/Tokyo maintenance as UTC intervals', () => {
    const intervals = excludedIntervals(
      [
        {
          kind: 'recurring',
          rrule: 'DTSTART;TZID=Asia/Tokyo:20260104T020000\nRRULE:FREQ=WEEKLY;BYDAY=SU',
          durationMs: 2 * HOUR,
        },
      ],
      Date.parse('2026-01-01T00:00:00Z'),
      Date.parse('2026-01-20T00:00:00Z'),
    );
    expect(intervals.map(([s, e]) => [iso(s), (e - s) / HOUR])).toEqual([
      ['2026-01-03T17:00:00.000Z', 2],
      ['2026-01-10T17:00:00.000Z', 2],
      ['2026-01-17T17:00:00.000Z', 2],
    ]);
  });

  it('merges overlapping and touching intervals and clips them to the range', () => {
    const intervals = excludedIntervals(
      [
        { kind: 'one-off', startMs: 10, endMs: 50 },
        { kind: 'one-off', startMs: 40, endMs: 60 },
        { kind: 'one-off', startMs: 60, endMs: 70 },
        { kind: 'one-off', startMs: 90, endMs: 200 },
        { kind: 'one-off', startMs: 300, endMs: 400 },
      ],
      20,
      150,
    );
    expect(intervals).toEqual([
      [20, 70],
      [90, 150],
    ]);
  });

  it('includes an occurrence that started before the range but still covers it', () => {
    const intervals = excludedIntervals(
      [{ kind: 'recurring', rrule: 'DTSTART:20260101T000000Z\nRRULE:FREQ=DAILY', durationMs: 3 * HOUR }],
      Date.parse('2026-01-02T01:00:00Z'),
      Date.parse('2026-01-02T12:00:00Z'),
    );
    expect(intervals.map(([s, e]) => [iso(s), iso(e)])).toEqual([
      ['2026-01-02T01:00:00.000Z', '2026-01-02T03:00:00.000Z'],
    ]);
  });

  it('honours EXDATE and UNTIL', () => {
    const intervals = excludedIntervals(
      [
        {
          kind: 'recurring',
          rrule:
            'DTSTART;TZID=Asia/Tokyo:20260104T020000\nRRULE:FREQ=WEEKLY;BYDAY=SU;UNTIL=20260124T000000Z\nEXDATE;TZID=Asia/Tokyo:20260111T020000',
          durationMs: HOUR,
        },
      ],
      Date.parse('2026-01-01T00:00:00Z'),
      Date.parse('2026-02-01T00:00:00Z'),
    );
    expect(intervals.map(([s]) => iso(s))).toEqual(['2026-01-03T17:00:00.000Z', '2026-01-17T17:00:00.000Z']);
  });
});

describe('Recurrence across DST', () => {
  it('moves a local time that does not exist forward by the gap', () => {
    const parsed = Recurrence.parse('DTSTART;TZID=America/New_York:20260306T023000\nRRULE:FREQ=DAILY');
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    const starts = parsed.value.startsBetween(
      Date.parse('2026-03-07T00:00:00Z'),
      Date.parse('2026-03-10T00:00:00Z'),
    );
    expect(starts.map(iso)).toEqual([
      '2026-03-07T07:30:00.000Z',
      '2026-03-08T07:30:00.000Z',
      '2026-03-09T06:30:00.000Z',
    ]);
  });

  it('takes the earlier instant of an ambiguous local time', () => {
    const parsed = Recurrence.parse('DTSTART;TZID=America/New_York:20261030T013000\nRRULE:FREQ=DAILY');
    if (!parsed.ok) throw new Error(parsed.error);
    const starts = parsed.value.startsBetween(
      Date.parse('2026-10-31T00:00:00Z'),
      Date.parse('2026-11-03T00:00:00Z'),
    );
    expect(starts.map(iso)).toEqual([
      '2026-10-31T05:30:00.000Z',
      '2026-11-01T05:30:00.000Z',
      '2026-11-02T06:30:00.000Z',
    ]);
  });

  it.each([
    ['RRULE:FREQ=WEEKLY;BYDAY=SU', 'DTSTART'],
    ['DTSTART:20260104T020000Z\nRRULE:FREQ=SOMETIMES', 'RFC 5545'],
    ['DTSTART;TZID=Mars/Olympus:20260104T020000\nRRULE:FREQ=DAILY', 'IANA'],
  ])('rejects %j with a reason', (text, reason) => {
    const parsed = Recurrence.parse(text);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.error).toContain(reason);
  });
});

describe('MinuteExclusion', () => {
  const schedule = new AdjustmentSchedule([
    { kind: 'one-off', startMs: 10 * MIN + 30_000, endMs: 13 * MIN },
    { kind: 'one-off', startMs: 13 * MIN, endMs: 15 * MIN + 1 },
  ]);

  it('excludes a minute when its start lies in an excluded interval', () => {
    const exclusion = new MinuteExclusion(schedule, 60);
    expect([10, 11, 12, 13, 14, 15, 16].map((m) => exclusion.isExcluded(m))).toEqual([
      false,
      true,
      true,
      true,
      true,
      true,
      false,
    ]);
  });

  it('answers whole-range and count questions', () => {
    const exclusion = new MinuteExclusion(schedule, 60);
    expect(exclusion.isFullyExcluded(11, 16)).toBe(true);
    expect(exclusion.isFullyExcluded(10, 12)).toBe(false);
    expect(exclusion.countExcluded(0, 100)).toBe(5);
    expect(exclusion.countExcluded(12, 14)).toBe(2);
  });
});
