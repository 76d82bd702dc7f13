/**
 * Scheduled monthly reports, the pure core: when the report of a month is due (its schedule's day
 * and time of the next month, in the report's zone, DST-safe through Luxon), which occurrence is
 * due now given the last one done (only the latest: a server down for three months sends one
 * report, not three), and each occurrence's id (`report:<scheduleId>:<month>`). No I/O, no clock.
 */
import { DateTime } from 'luxon';
import type { ReportLanguage } from './model.js';
import { monthOf, monthsEndingWith } from './month.js';

/** The formats a scheduled report is attached or linked as (`html` is the mail's body itself). */
export const SCHEDULE_FORMATS = ['html', 'pdf', 'md'] as const;
export type ScheduleFormat = (typeof SCHEDULE_FORMATS)[number];

/** One entry of `reports.schedules`, as validated by the config. */
export interface ReportSchedule {
  /** Stable id: it keys the occurrences (`report:<id>:<month>`), so changing it sends a month again. */
  readonly id: string;
  readonly product: string;
  /** Email addresses (each gets its own mail). */
  readonly recipients: readonly string[];
  /** The id of a Slack channel (C0123ABC) the summary is posted to. */
  readonly slackChannel?: string | undefined;
  /** A `notificationTargets.<name>` of `target: webhook` that receives the report as JSON. */
  readonly webhook?: string | undefined;
  readonly language: ReportLanguage;
  /** 1–28: every month has it. */
  readonly dayOfMonth: number;
  /** `HH:MM`, 24-hour, in the report's zone. */
  readonly time: string;
  readonly format: ScheduleFormat;
}

/** The logical id of one (schedule, month): the idempotency key of everything it sends. */
export function occurrenceId(scheduleId: string, month: string): string {
  return `report:${scheduleId}:${month}`;
}

/**
 * When the report covering `month` is due: the schedule's day and time of the month after, in
 * `timeZone`. A time that does not exist that day (clocks go forward) is moved forward by the gap
 * (02:30 → 03:30); a time that happens twice (clocks go back) is the second one (Luxon's rule).
 */
export function dueAtMs(
  month: string,
  schedule: Pick<ReportSchedule, 'dayOfMonth' | 'time'>,
  timeZone: string,
): number {
  const [year, m] = month.split('-').map(Number) as [number, number];
  const [hour, minute] = schedule.time.split(':').map(Number) as [number, number];
  const next = DateTime.utc(year, m, 1).plus({ months: 1 });
  return DateTime.fromObject(
    { year: next.year, month: next.month, day: schedule.dayOfMonth, hour, minute },
    { zone: timeZone },
  ).toMillis();
}

/** The latest month whose report was due at or before `nowMs` (the month before or the one before that). */
export function latestDueMonth(
  schedule: Pick<ReportSchedule, 'dayOfMonth' | 'time'>,
  timeZone: string,
  nowMs: number,
): string {
  const [twoBefore, before] = monthsEndingWith(monthOf(nowMs, timeZone), 3) as [string, string, string];
  return dueAtMs(before, schedule, timeZone) <= nowMs ? before : twoBefore;
}

/** The next time after `nowMs` a report of this schedule is due, and the month it covers. */
export function nextDue(
  schedule: Pick<ReportSchedule, 'dayOfMonth' | 'time'>,
  timeZone: string,
  nowMs: number,
): { readonly month: string; readonly atMs: number } {
  const [before, current] = monthsEndingWith(monthOf(nowMs, timeZone), 2) as [string, string];
  const atMs = dueAtMs(before, schedule, timeZone);
  return atMs > nowMs
    ? { month: before, atMs }
    : { month: current, atMs: dueAtMs(current, schedule, timeZone) };
}

/**
 * What to do for a schedule now. `lastMonth` is the latest month recorded for it (sent, or the
 * baseline), undefined when it was never seen. A schedule seen for the first time records the
 * latest due month as its baseline without sending it (a schedule added on the 20th does not mail
 * last month's report at once); afterwards the latest due month is sent when it is newer than the
 * last one recorded — once, however many months the server was down.
 */
export type ScheduleAction =
  | { readonly kind: 'none' }
  | { readonly kind: 'baseline'; readonly month: string }
  | { readonly kind: 'send'; readonly month: string; readonly dueAtMs: number };

export function scheduleAction(
  schedule: Pick<ReportSchedule, 'dayOfMonth' | 'time'>,
  timeZone: string,
  nowMs: number,
  lastMonth: string | undefined,
): ScheduleAction {
  const month = latestDueMonth(schedule, timeZone, nowMs);
  if (lastMonth === undefined) return { kind: 'baseline', month };
  if (month <= lastMonth) return { kind: 'none' };
  return { kind: 'send', month, dueAtMs: dueAtMs(month, schedule, timeZone) };
}
