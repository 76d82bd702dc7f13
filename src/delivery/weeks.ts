/** Calendar days and Monday-start weeks of a period in a time zone (pure; Luxon does the zone math). */
import { DateTime, IANAZone } from 'luxon';
import { AppError } from '../platform/errors.js';

/** The longest period the metrics accept, in calendar days (about ten years). */
export const MAX_PERIOD_DAYS = 3660;

const WEEK_MS = 7 * 86_400_000;

export interface WeekBuckets {
  /** Calendar days in the zone that the period [fromMs, toMs) touches (a 23- or 25-hour day is one day). */
  readonly days: number;
  /** Every Monday-start week in the zone that overlaps the period, in order. */
  readonly weeks: readonly { readonly start: string; readonly startMs: number }[];
  /** Index into `weeks` of an instant inside the period. */
  weekOf(ms: number): number;
}

/** Days and weeks of [fromMs, toMs) in `timeZone`; AppError Invalid on an unknown zone or a period over MAX_PERIOD_DAYS. */
export function weekBuckets(fromMs: number, toMs: number, timeZone: string): WeekBuckets {
  if (!IANAZone.isValidZone(timeZone)) throw new AppError('Invalid', `Unknown time zone "${timeZone}".`);
  if (!(Number.isFinite(fromMs) && Number.isFinite(toMs)) || toMs <= fromMs) {
    return { days: 0, weeks: [], weekOf: () => 0 };
  }
  const first = DateTime.fromMillis(fromMs, { zone: timeZone });
  const last = DateTime.fromMillis(toMs - 1, { zone: timeZone });
  // Calendar arithmetic in the zone: Luxon counts days by date, so a DST day is still one day.
  const days = Math.round(last.startOf('day').diff(first.startOf('day'), 'days').days) + 1;
  if (days > MAX_PERIOD_DAYS) {
    throw new AppError('Invalid', `The period covers ${days} days; at most ${MAX_PERIOD_DAYS} are allowed.`);
  }
  const weeks: { start: string; startMs: number }[] = [];
  // startOf('week') is the ISO week: Monday 00:00 in the zone.
  for (let week = first.startOf('week'); week.toMillis() < toMs; week = week.plus({ weeks: 1 })) {
    weeks.push({ start: week.toISODate()!, startMs: week.toMillis() });
  }
  const starts = Float64Array.from(weeks, (week) => week.startMs);
  const lastWeek = starts.length - 1;
  return {
    days,
    weeks,
    weekOf(ms: number): number {
      // Guess by nominal 7-day weeks, then step to the Luxon boundaries (a DST week is ±1 h off,
      // so at most one step): O(1) however the rows are ordered.
      let week = Math.min(lastWeek, Math.max(0, Math.floor((ms - starts[0]!) / WEEK_MS)));
      while (week < lastWeek && starts[week + 1]! <= ms) week++;
      while (week > 0 && starts[week]! > ms) week--;
      return week;
    },
  };
}
