import { DateTime, type DurationLikeObject, IANAZone } from 'luxon';
import { DAY_MS } from '../../platform/dates.js';
import type { DurationUnit } from '../duration.js';
import type { WindowSpec } from './types.js';

export type CalendarWindow = Extract<WindowSpec, { kind: 'calendar' }>;

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

const LUXON_UNIT: Record<DurationUnit, keyof DurationLikeObject> = {
  m: 'minutes',
  h: 'hours',
  d: 'days',
  w: 'weeks',
  M: 'months',
  Q: 'quarters',
  Y: 'years',
};

/** Average lengths, only to guess the period index before exact Luxon arithmetic. */
const AVERAGE_MS: Record<DurationUnit, number> = {
  m: 60_000,
  h: 3_600_000,
  d: DAY_MS,
  w: 7 * DAY_MS,
  M: 30.436875 * DAY_MS,
  Q: 91.310625 * DAY_MS,
  Y: 365.2425 * DAY_MS,
};

const START_FORMATS = ['yyyy-MM-dd HH:mm:ss', "yyyy-MM-dd'T'HH:mm:ss"];

/** Parses a calendar window's local start time in its zone; the error names what is wrong. */
export function parseCalendarStart(startTime: string, timeZone: string): Parsed<DateTime> {
  if (!IANAZone.isValidZone(timeZone)) {
    return { ok: false, error: `"${timeZone}" is not an IANA time zone (e.g. Asia/Tokyo, UTC)` };
  }
  for (const format of START_FORMATS) {
    const parsed = DateTime.fromFormat(startTime, format, { zone: timeZone });
    if (parsed.isValid) {
      if (parsed.second !== 0) {
        return { ok: false, error: `startTime "${startTime}" must be on a whole minute (seconds 00)` };
      }
      return { ok: true, value: parsed };
    }
  }
  return {
    ok: false,
    error: `startTime "${startTime}" is not a local time: write yyyy-MM-dd HH:mm:ss (e.g. 2026-01-01 00:00:00)`,
  };
}

/**
 * The calendar periods of one window: period k is `[start + k×duration, start + (k+1)×duration)`,
 * each boundary computed from the start with one Luxon `plus` (so month ends clamp without drift and
 * day/week/month units follow wall time across DST; minute/hour units are absolute).
 */
export class CalendarPeriods {
  private readonly start: DateTime;
  private readonly startMs: number;
  private readonly unit: keyof DurationLikeObject;
  private readonly count: number;
  private readonly averageMs: number;

  constructor(window: CalendarWindow) {
    const parsed = parseCalendarStart(window.startTime, window.timeZone);
    if (!parsed.ok) throw new RangeError(parsed.error);
    this.start = parsed.value;
    this.startMs = parsed.value.toMillis();
    this.unit = LUXON_UNIT[window.duration.unit];
    this.count = window.duration.count;
    this.averageMs = AVERAGE_MS[window.duration.unit] * window.duration.count;
  }

  /** Start of period k (k may be negative). */
  boundaryMs(k: number): number {
    if (k === 0) return this.startMs;
    return this.start.plus({ [this.unit]: k * this.count }).toMillis();
  }

  /** Index of the period containing `atMs`. */
  indexAt(atMs: number): number {
    let k = Math.floor((atMs - this.startMs) / this.averageMs);
    while (this.boundaryMs(k) > atMs) k--;
    while (this.boundaryMs(k + 1) <= atMs) k++;
    return k;
  }

  periodAt(atMs: number): { startMs: number; endMs: number } {
    const k = this.indexAt(atMs);
    return { startMs: this.boundaryMs(k), endMs: this.boundaryMs(k + 1) };
  }
}

/** The calendar period containing `atMs`. Throws RangeError on an invalid window (validate specs first). */
export function calendarPeriodAt(window: CalendarWindow, atMs: number): { startMs: number; endMs: number } {
  return new CalendarPeriods(window).periodAt(atMs);
}
