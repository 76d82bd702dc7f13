/**
 * The public face of `slo/`, the floor the capabilities stand on: the catalog model, spec loading,
 * durations, burn windows, evaluation, stored minutes (`minutes.ts`), ingestion and the evaluator.
 * Other folders import this file, never one inside `slo/` (scripts/check-imports.ts).
 */
export type { MinuteCounts } from './budget/types.js';
export { type BudgetReport, type BudgetReportEntry, budgetReport, minuteSeries } from './budget-report.js';
export {
  type AlertRule,
  type AlertWindowSet,
  alertRulesFor,
  BUDGET_TABLE_BURN_WINDOWS,
  type BurnCondition,
  burnRateFactor,
  burnWindowLabel,
  CURRENT_BURN_WINDOW,
  DEFAULT_BURN_WINDOWS,
  distinctWindowsMs,
  goHours,
  meets,
  rulesFromPolicies,
  SLOTH_WINDOWS_30D,
  type WindowsSource,
  windowsForPeriod,
  windowsFromDefinition,
} from './burn/index.js';
export { MAX_COUNT_PER_MINUTE } from './counts.js';
export { type CountRow, parseDataFile } from './data-file.js';
export {
  fixedDurationMs,
  formatDuration,
  nominalDurationMs,
  parseDuration,
  promDuration,
} from './duration.js';
export {
  type EvaluationPart,
  type EvaluationTarget,
  evaluateTarget,
  evaluationTargets,
} from './evaluation.js';
export { type DatedStatus, Evaluator, evaluationReadiness } from './evaluator/evaluator.js';
export { createLeaderElection } from './evaluator/leader.js';
export { getStatus, type HistoryRow, history, historyRows, isStale, listStatuses } from './evaluator/read.js';
export { createShardOwnership } from './evaluator/shard-leases.js';
export { HOUR_MS, type MinuteSums, refreshHourSums, sumMinutes } from './hour-sums.js';
export { ingestRoutes } from './ingest/routes.js';
export { ingestBatch } from './ingest/service.js';
export { bucketMsFor, groupIntoDays } from './minute-buckets.js';
export {
  type BudgetBetween,
  type BurnBetween,
  budgetBetween,
  burnBetween,
  latestMinuteMs,
  type MinuteRow,
  readDailyCounts,
  readMinutes,
  type TimeWindow,
  type WindowCounts,
} from './minutes.js';
export {
  type BurnRateAlerting,
  type Catalog,
  EMPTY_CATALOG,
  type Indicator,
  type MetricSource,
  type NotificationTargetDefinition,
  type Objective,
  type PolicyStep,
  type RiskDefinition,
  type RiskFactorDefinition,
  type RiskStatus,
  type ServiceDefinition,
  type SloDefinition,
  type SourceLocation,
} from './model.js';
export { dropMinutePartitions, ensureMinuteWeeks, maintainMinutePartitions } from './partitions.js';
export {
  ANSWER_CACHE_BYTES,
  AnswerCache,
  historyFingerprint,
  historyVersion,
  SloReadCache,
  statusesVersion,
} from './read-cache.js';
export { historyPlans, readSpanMs, SloRetention, sliMinutesKeepMs } from './retention.js';
export { sloRoutes } from './routes.js';
export { servicesBySli } from './sli-routing.js';
export {
  checkPulledSlis,
  planPulls,
  SliPuller,
  type SliSource,
  SOURCES,
  type SourceCheck,
} from './sources/index.js';
export { otlpPlan, otlpRoutes } from './sources/otlp/index.js';
export { closest } from './spec/check.js';
export { type Diagnostic, formatDiagnostic, sortDiagnostics } from './spec/diagnostics.js';
export { parseSpecText } from './spec/documents.js';
export { loadSpecs, loadSpecText } from './spec/load.js';
export { isUploaded } from './spec/origin.js';
export { activePolicyStep } from './spec/shinrai-metadata.js';
export { SHINRAI_V1 } from './spec/shinrai-v1.js';
export { parsePrometheusDuration } from './spec/sloth.js';
export { SpecLoader } from './spec/spec-loader.js';
export { specSourceRoutes } from './spec-source-routes.js';
export { MANAGED_PREFIX, type ManagedFileAudit, SpecStore, UPLOAD_PREFIX } from './spec-store.js';
