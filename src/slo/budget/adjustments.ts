import { DateTime, IANAZone } from 'luxon';
import rrulePkg from 'rrule';
import type { Parsed } from './calendar.js';
import { MINUTE_MS, minuteCeil } from './math.js';
import type { Adjustment } from './types.js';

// rrule ships CommonJS for Node: only its default export is reachable from ESM.
const { RRule, RRuleSet, rrulestr } = rrulePkg;
type RRuleSetInstance = InstanceType<typeof RRuleSet>;

/** Local times are at most 14 h from UTC; a day of slack covers every zone. */
const ZONE_SLACK_MS = 86_400_000;

/**
 * A parsed RFC 5545 recurrence. Occurrences are generated in floating wall time by `rrule` (so BYDAY,
 * BYHOUR… are local) and turned into instants with Luxon in the DTSTART zone (UTC when DTSTART has no
 * TZID). A local time that does not exist (DST gap) moves forward by the gap; an ambiguous one
 * (DST overlap) takes its earlier instant, as RFC 5545 says. EXDATE/RDATE are read in the DTSTART zone.
 */
export class Recurrence {
  private constructor(
    private readonly floating: RRuleSetInstance,
    private readonly zone: string,
  ) {}

  static parse(text: string): Parsed<Recurrence> {
    let parsed: ReturnType<typeof rrulestr>;
    try {
      parsed = rrulestr(text.trim(), { forceset: true });
    } catch (error) {
      return { ok: false, error: `recurrence is not RFC 5545: ${(error as Error).message}` };
    }
    const set = parsed as RRuleSetInstance;
    const rules = set.rrules();
    if (rules.length === 0 && set.rdates().length === 0) {
      return { ok: false, error: 'recurrence has no RRULE or RDATE' };
    }
    if (!/DTSTART/i.test(text) || rules.some((rule) => !rule.origOptions.dtstart)) {
      return {
        ok: false,
        error: 'recurrence needs a DTSTART (e.g. DTSTART;TZID=Asia/Tokyo:20260104T020000)',
      };
    }
    const zone = rules[0]?.origOptions.tzid ?? set.tzid() ?? 'UTC';
    if (!IANAZone.isValidZone(zone)) return { ok: false, error: `"${zone}" is not an IANA time zone` };

    const floating = new RRuleSet();
    for (const rule of rules) {
      const { tzid: _tzid, until, ...options } = rule.origOptions;
      // UNTIL is a real instant (UTC) in RFC 5545; compare it in floating wall time like the occurrences.
      const floatingUntil = until ? wallAsUtc(DateTime.fromJSDate(until, { zone })) : null;
      floating.rrule(new RRule({ ...options, until: floatingUntil, tzid: null }));
    }
    for (const date of set.rdates()) floating.rdate(date);
    for (const date of set.exdates()) floating.exdate(date);
    return { ok: true, value: new Recurrence(floating, zone) };
  }

  /** Occurrence instants in `[fromMs, toMs)`, ascending. */
  startsBetween(fromMs: number, toMs: number): number[] {
    const candidates = this.floating.between(
      new Date(fromMs - ZONE_SLACK_MS),
      new Date(toMs + ZONE_SLACK_MS),
      true,
    );
    const starts: number[] = [];
    for (const wall of candidates) {
      const ms = wallToMs(wall, this.zone);
      if (ms >= fromMs && ms < toMs) starts.push(ms);
    }
    return starts.sort((a, b) => a - b);
  }
}

function wallAsUtc(dt: DateTime): Date {
  return new Date(Date.UTC(dt.year, dt.month - 1, dt.day, dt.hour, dt.minute, dt.second, dt.millisecond));
}

/** The instant of a floating wall time (a Date whose UTC fields are the local fields) in `zone`. */
function wallToMs(wall: Date, zone: string): number {
  const fields = {
    year: wall.getUTCFullYear(),
    month: wall.getUTCMonth() + 1,
    day: wall.getUTCDate(),
    hour: wall.getUTCHours(),
    minute: wall.getUTCMinutes(),
    second: wall.getUTCSeconds(),
    millisecond: wall.getUTCMilliseconds(),
  };
  const luxonChoice = DateTime.fromObject(fields, { zone });
  const chosenMs = luxonChoice.toMillis();
  // In a DST overlap the same wall time exists twice; Luxon may pick the later one.
  const tz = IANAZone.create(zone);
  let earliest = chosenMs;
  for (const probeMs of [chosenMs - 6 * 3_600_000, chosenMs + 6 * 3_600_000]) {
    const candidateMs = wall.getTime() - tz.offset(probeMs) * MINUTE_MS;
    if (candidateMs < earliest && sameWallTime(DateTime.fromMillis(candidateMs, { zone }), luxonChoice)) {
      earliest = candidateMs;
    }
  }
  return earliest;
}

function sameWallTime(a: DateTime, b: DateTime): boolean {
  return (
    a.year === b.year &&
    a.month === b.month &&
    a.day === b.day &&
    a.hour === b.hour &&
    a.minute === b.minute &&
    a.second === b.second
  );
}

/** Adjustments parsed once, ready to answer interval queries. */
export class AdjustmentSchedule {
  private readonly oneOffs: Array<[number, number]> = [];
  private readonly recurring: Array<{ recurrence: Recurrence; durationMs: number }> = [];

  /** Throws RangeError on an invalid adjustment (validate specs first). */
  constructor(adjustments: readonly Adjustment[]) {
    for (const adjustment of adjustments) {
      if (adjustment.kind === 'one-off') {
        this.oneOffs.push([adjustment.startMs, adjustment.endMs]);
      } else {
        const parsed = Recurrence.parse(adjustment.rrule);
        if (!parsed.ok) throw new RangeError(parsed.error);
        this.recurring.push({ recurrence: parsed.value, durationMs: adjustment.durationMs });
      }
    }
  }

  get isEmpty(): boolean {
    return this.oneOffs.length === 0 && this.recurring.length === 0;
  }

  /** Excluded intervals overlapping `[fromMs, toMs)`, clipped to it, sorted and merged. */
  intervals(fromMs: number, toMs: number): Array<[number, number]> {
    const raw: Array<[number, number]> = [];
    const clip = (startMs: number, endMs: number) => {
      const start = Math.max(startMs, fromMs);
      const end = Math.min(endMs, toMs);
      if (start < end) raw.push([start, end]);
    };
    for (const [startMs, endMs] of this.oneOffs) clip(startMs, endMs);
    for (const { recurrence, durationMs } of this.recurring) {
      for (const startMs of recurrence.startsBetween(fromMs - durationMs, toMs)) {
        clip(startMs, startMs + durationMs);
      }
    }
    return mergeIntervals(raw);
  }

  /**
   * Excluded minutes in `[fromMin, toMin)` as merged minute-index ranges. A minute is excluded when its
   * start lies in an excluded interval.
   */
  minuteRanges(fromMin: number, toMin: number): Array<[number, number]> {
    const ranges: Array<[number, number]> = [];
    for (const [startMs, endMs] of this.intervals(fromMin * MINUTE_MS, toMin * MINUTE_MS)) {
      const first = minuteCeil(startMs);
      const end = minuteCeil(endMs);
      if (first < end) ranges.push([first, end]);
    }
    return mergeIntervals(ranges);
  }
}

/** Sorts and merges intervals; touching ones (`[a, b)` and `[b, c)`) merge. */
export function mergeIntervals(intervals: Array<[number, number]>): Array<[number, number]> {
  const sorted = [...intervals].sort((a, b) => a[0] - b[0]);
  const merged: Array<[number, number]> = [];
  for (const [start, end] of sorted) {
    const last = merged[merged.length - 1];
    if (last && start <= last[1]) last[1] = Math.max(last[1], end);
    else merged.push([start, end]);
  }
  return merged;
}

/** Excluded intervals of the adjustments overlapping `[fromMs, toMs)`: clipped to it, sorted, merged. */
export function excludedIntervals(
  adjustments: readonly Adjustment[],
  fromMs: number,
  toMs: number,
): Array<[number, number]> {
  return new AdjustmentSchedule(adjustments).intervals(fromMs, toMs);
}

/**
 * Minute-level view of a schedule over a moving span, cached: answers "is minute i excluded" and
 * "is every minute of [u, v) excluded" by binary search. Recomputes its cache when asked outside it.
 */
export class MinuteExclusion {
  private fromMin = 0;
  private toMin = 0;
  private starts: number[] = [];
  private ends: number[] = [];

  constructor(
    private readonly schedule: AdjustmentSchedule,
    /** Minutes cached on each side of a miss. */
    private readonly spanMin: number,
  ) {}

  /** Caches `[fromMin, toMin)` exactly (for one-shot use over a known span). */
  load(fromMin: number, toMin: number): void {
    this.fromMin = fromMin;
    this.toMin = toMin;
    const ranges = this.schedule.minuteRanges(fromMin, toMin);
    this.starts = ranges.map((r) => r[0]);
    this.ends = ranges.map((r) => r[1]);
  }

  private ensure(fromMin: number, toMin: number): void {
    if (fromMin >= this.fromMin && toMin <= this.toMin) return;
    this.load(fromMin - this.spanMin, toMin + this.spanMin);
  }

  /** Index of the last cached range starting at or before `minute`, or -1. */
  private rangeIndex(minute: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.starts[mid]! <= minute) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  isExcluded(minute: number): boolean {
    this.ensure(minute, minute + 1);
    const i = this.rangeIndex(minute);
    return i >= 0 && this.ends[i]! > minute;
  }

  /** True when every minute of `[fromMin, toMin)` is excluded (false for an empty range). */
  isFullyExcluded(fromMin: number, toMin: number): boolean {
    if (fromMin >= toMin) return false;
    this.ensure(fromMin, toMin);
    const i = this.rangeIndex(fromMin);
    return i >= 0 && this.ends[i]! >= toMin;
  }

  /** Number of excluded minutes in `[fromMin, toMin)`. */
  countExcluded(fromMin: number, toMin: number): number {
    if (fromMin >= toMin) return 0;
    this.ensure(fromMin, toMin);
    let count = 0;
    for (let i = Math.max(0, this.rangeIndex(fromMin)); i < this.starts.length; i++) {
      const start = Math.max(this.starts[i]!, fromMin);
      const end = Math.min(this.ends[i]!, toMin);
      if (this.starts[i]! >= toMin) break;
      if (start < end) count += end - start;
    }
    return count;
  }
}
