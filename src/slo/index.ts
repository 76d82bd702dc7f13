/**
 * The public face of `slo/` for the capabilities above it. For now only the reads of stored
 * minutes (`minutes.ts`); other imports still reach into the folder and move here step by step.
 */
export {
  type BudgetBetween,
  budgetBetween,
  latestMinuteMs,
  type MinuteRow,
  readDailyCounts,
  readMinutes,
  type TimeWindow,
  type WindowCounts,
} from './minutes.js';
