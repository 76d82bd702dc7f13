import { describe, expect, it } from 'vitest';
import { duration } from '../duration.js';
import { type CalendarWindow, calendarPeriodAt, parseCalendarStart } from './calendar.js';

const HOUR = 3_600_000;

function window(d: string, startTime: string, timeZone: string): CalendarWindow {
  return { kind: 'calendar', duration: duration(d), startTime, timeZone };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

describe('calendarPeriodAt', () => {
  it.each([
    ['2026-01-31T15:00:00.000Z', '2026-01-31T15:00:00.000Z', '2026-02-28T15:00:00.000Z'],
    ['2026-01-31T14:59:59.999Z', '2025-12-31T15:00:00.000Z', '2026-01-31T15:00:00.000Z'],
    ['2026-02-28T15:00:00.000Z', '2026-02-28T15:00:00.000Z', '2026-03-31T15:00:00.000Z'],
  ])('gives Asia/Tokyo month boundaries at local midnight when at is %s', (at, start, end) => {
    const period = calendarPeriodAt(window('1M', '2026-01-01 00:00:00', 'Asia/Tokyo'), Date.parse(at));
    expect([iso(period.startMs), iso(period.endMs)]).toEqual([start, end]);
  });

  it('makes a 1d America/New_York period 23 h long on the spring-forward day', () => {
    const period = calendarPeriodAt(
      window('1d', '2026-01-01 00:00:00', 'America/New_York'),
      Date.parse('2026-03-08T12:00:00Z'),
    );
    expect(iso(period.startMs)).toBe('2026-03-08T05:00:00.000Z');
    expect(period.endMs - period.startMs).toBe(23 * HOUR);
  });

  it('makes a 1d America/New_York period 25 h long on the fall-back day', () => {
    const period = calendarPeriodAt(
      window('1d', '2026-01-01 00:00:00', 'America/New_York'),
      Date.parse('2026-11-01T12:00:00Z'),
    );
    expect(period.endMs - period.startMs).toBe(25 * HOUR);
  });

  it.each([
    ['2026-03-10T12:00:00Z', '2026-03-08T05:00:00.000Z', 167],
    ['2026-11-03T12:00:00Z', '2026-11-01T04:00:00.000Z', 169],
    ['2026-06-10T12:00:00Z', '2026-06-07T04:00:00.000Z', 168],
  ])(
    'makes the America/New_York week holding %s start at %s (local midnight) and last %d h',
    (at, start, hours) => {
      const period = calendarPeriodAt(
        window('1w', '2026-01-04 00:00:00', 'America/New_York'),
        Date.parse(at),
      );
      expect(iso(period.startMs)).toBe(start);
      expect((period.endMs - period.startMs) / HOUR).toBe(hours);
    },
  );

  it.each([
    ['2026-02-10T00:00:00Z', '2026-01-31', '2026-02-28'],
    ['2026-03-15T00:00:00Z', '2026-02-28', '2026-03-31'],
    ['2026-04-30T00:00:00Z', '2026-04-30', '2026-05-31'],
    ['2028-02-29T12:00:00Z', '2028-02-29', '2028-03-31'],
  ])('clamps months started on the 31st without drifting when at is %s', (at, start, end) => {
    const period = calendarPeriodAt(window('1M', '2026-01-31 00:00:00', 'UTC'), Date.parse(at));
    expect([iso(period.startMs).slice(0, 10), iso(period.endMs).slice(0, 10)]).toEqual([start, end]);
  });

  it('finds periods before the start time', () => {
    const period = calendarPeriodAt(
      window('1M', '2026-01-01 00:00:00', 'UTC'),
      Date.parse('2025-11-15T00:00:00Z'),
    );
    expect([iso(period.startMs), iso(period.endMs)]).toEqual([
      '2025-11-01T00:00:00.000Z',
      '2025-12-01T00:00:00.000Z',
    ]);
  });

  it('handles quarters, years and multi-unit counts in a zone', () => {
    const quarter = calendarPeriodAt(
      window('1Q', '2026-01-01 00:00:00', 'Asia/Tokyo'),
      Date.parse('2026-05-10T00:00:00Z'),
    );
    expect([iso(quarter.startMs), iso(quarter.endMs)]).toEqual([
      '2026-03-31T15:00:00.000Z',
      '2026-06-30T15:00:00.000Z',
    ]);
    const year = calendarPeriodAt(
      window('1Y', '2026-04-01 00:00:00', 'Asia/Tokyo'),
      Date.parse('2027-01-10T00:00:00Z'),
    );
    expect(iso(year.startMs)).toBe('2026-03-31T15:00:00.000Z');
    const twoWeeks = calendarPeriodAt(
      window('2w', '2026-01-05 00:00:00', 'UTC'),
      Date.parse('2026-01-20T00:00:00Z'),
    );
    expect(iso(twoWeeks.startMs)).toBe('2026-01-19T00:00:00.000Z');
  });

  it('keeps hour periods at absolute length across a DST change', () => {
    const period = calendarPeriodAt(
      window('1h', '2026-03-08 00:00:00', 'America/New_York'),
      Date.parse('2026-03-08T07:30:00Z'),
    );
    expect(period.endMs - period.startMs).toBe(HOUR);
    expect(iso(period.startMs)).toBe('2026-03-08T07:00:00.000Z');
  });

  it('throws RangeError on an invalid window', () => {
    expect(() => calendarPeriodAt(window('1M', '2026-01-01 00:00:00', 'Mars/Olympus'), 0)).toThrow(
      RangeError,
    );
  });
});

describe('parseCalendarStart', () => {
  it('accepts the ISO form with a T', () => {
    const parsed = parseCalendarStart('2026-01-01T09:00:00', 'Asia/Tokyo');
    expect(parsed.ok && parsed.value.toUTC().toISO()).toBe('2026-01-01T00:00:00.000Z');
  });

  it.each([
    ['2026-01-01', 'UTC', 'not a local time'],
    ['2026-01-01 00:00:30', 'UTC', 'whole minute'],
    ['2026-01-01 00:00:00', 'Asia/Edo', 'IANA'],
  ])('rejects %j in %s with a reason', (startTime, zone, reason) => {
    const parsed = parseCalendarStart(startTime, zone);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.error).toContain(reason);
  });
});
