/** The error-budget engine: pure, no I/O, no clock (time is always passed in as epoch milliseconds). */
export { excludedIntervals } from './adjustments.js';
export { calendarPeriodAt, parseCalendarStart } from './calendar.js';
export { ColdMinutes, type ColdRow, type MinuteRange, mergeRanges } from './cold-minutes.js';
export { type CompositePart, combineComposite } from './composite.js';
export { evaluate } from './evaluate.js';
export { IncrementalObjective, type IncrementalOptions } from './incremental.js';
export {
  alertBurnRate,
  budgetFractionSpent,
  burnRate,
  exhaustionAtMs,
  MINUTE_MS,
  timeToExhaustionMs,
} from './math.js';
export type * from './types.js';
export { assertValidObjective, type SpecIssue, validateObjective } from './validate.js';
