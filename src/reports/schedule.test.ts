/** Unit tests of the schedule core: due times in a zone across DST, the latest due month, what to do now. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dueAtMs, latestDueMonth, nextDue, occurrenceId, scheduleAction } from './schedule.js';

const at = (iso: string) => Date.parse(iso);
const daily = { dayOfMonth: 1, time: '09:00' };

describe('dueAtMs', () => {
  it.each([
    // The report of November is due on December 1st, 09:00 in the zone.
    ['2026-11', 'Asia/Tokyo', daily, '2026-12-01T00:00:00Z'],
    ['2026-11', 'America/New_York', daily, '2026-12-01T14:00:00Z'],
    // October's report is due on November 1st: New York is back on standard time (UTC−5) by 09:00.
    ['2026-10', 'America/New_York', daily, '2026-11-01T14:00:00Z'],
    // February's is due on March 8th, the day clocks go forward: 09:00 is daylight time (UTC−4).
    ['2026-02', 'America/New_York', { dayOfMonth: 8, time: '09:00' }, '2026-03-08T13:00:00Z'],
    // December's is due in January of the next year.
    ['2026-12', 'Europe/Berlin', { dayOfMonth: 28, time: '23:59' }, '2027-01-28T22:59:00Z'],
  ])('the report of %s in %s is due at the schedule time of the next month', (month, zone, schedule, iso) => {
    expect(dueAtMs(month, schedule, zone)).toBe(at(iso));
  });

  it('moves a time that does not exist (clocks go forward) by the gap', () => {
    // 2026-03-08 02:30 does not exist in New York: 03:30 daylight time.
    expect(dueAtMs('2026-02', { dayOfMonth: 8, time: '02:30' }, 'America/New_York')).toBe(
      at('2026-03-08T07:30:00Z'),
    );
  });

  it('takes a time that happens twice (clocks go back) once', () => {
    // 2026-11-01 01:30 happens at 05:30Z (EDT) and 06:30Z (EST): one of them, always the same.
    const due = dueAtMs('2026-10', { dayOfMonth: 1, time: '01:30' }, 'America/New_York');
    expect([at('2026-11-01T05:30:00Z'), at('2026-11-01T06:30:00Z')]).toContain(due);
    expect(dueAtMs('2026-10', { dayOfMonth: 1, time: '01:30' }, 'America/New_York')).toBe(due);
  });
});

describe('latestDueMonth and nextDue', () => {
  const tokyo = 'Asia/Tokyo';
  it('is the month before until the due time passes, then stays it until next month', () => {
    // Dec 1st 08:59 in Tokyo: November is not due yet, October is the latest.
    expect(latestDueMonth(daily, tokyo, at('2026-11-30T23:59:00Z'))).toBe('2026-10');
    expect(latestDueMonth(daily, tokyo, at('2026-12-01T00:00:00Z'))).toBe('2026-11');
    expect(latestDueMonth(daily, tokyo, at('2026-12-31T14:59:00Z'))).toBe('2026-11');
  });

  it('nextDue names the next due time after now', () => {
    expect(nextDue(daily, tokyo, at('2026-11-30T23:59:00Z'))).toEqual({
      month: '2026-11',
      atMs: at('2026-12-01T00:00:00Z'),
    });
    expect(nextDue(daily, tokyo, at('2026-12-01T00:00:00Z'))).toEqual({
      month: '2026-12',
      atMs: at('2027-01-01T00:00:00Z'),
    });
  });

  it('the latest due time is never after now and the next one always is (any zone, day, time)', () => {
    const zones = ['Asia/Tokyo', 'America/New_York', 'Europe/London', 'Australia/Lord_Howe', 'UTC'];
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(2024, 0, 1), max: Date.UTC(2030, 0, 1) }),
        fc.constantFrom(...zones),
        fc.integer({ min: 1, max: 28 }),
        fc.integer({ min: 0, max: 23 }),
        fc.integer({ min: 0, max: 59 }),
        (nowMs, zone, dayOfMonth, hour, minute) => {
          const schedule = {
            dayOfMonth,
            time: `${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}`,
          };
          const latest = latestDueMonth(schedule, zone, nowMs);
          const next = nextDue(schedule, zone, nowMs);
          expect(dueAtMs(latest, schedule, zone)).toBeLessThanOrEqual(nowMs);
          expect(next.atMs).toBeGreaterThan(nowMs);
          // Nothing is due between them: the next month after the latest is the next due.
          expect(next.month > latest).toBe(true);
        },
      ),
    );
  });
});

describe('scheduleAction', () => {
  const zone = 'America/New_York';
  const dec2 = at('2026-12-02T12:00:00Z');

  it('records the latest due month as a baseline when the schedule is new', () => {
    expect(scheduleAction(daily, zone, dec2, undefined)).toEqual({ kind: 'baseline', month: '2026-11' });
  });

  it('sends the latest due month once it is newer than the last one done', () => {
    expect(scheduleAction(daily, zone, dec2, '2026-10')).toEqual({
      kind: 'send',
      month: '2026-11',
      dueAtMs: at('2026-12-01T14:00:00Z'),
    });
    expect(scheduleAction(daily, zone, dec2, '2026-11')).toEqual({ kind: 'none' });
  });

  it('sends only the latest missed month after a long outage', () => {
    // Last sent: June's report; the server was down until December 2nd.
    expect(scheduleAction(daily, zone, dec2, '2026-06')).toEqual({
      kind: 'send',
      month: '2026-11',
      dueAtMs: at('2026-12-01T14:00:00Z'),
    });
  });

  it('names each occurrence by schedule and month', () => {
    expect(occurrenceId('checkout-en', '2026-11')).toBe('report:checkout-en:2026-11');
  });
});
