/**
 * The public face of `slo/sources/`: the pull loop, the port a source implements, and the
 * registered sources. docs/sources.md.
 */

export { type CheckOptions, checkPulledSlis, type SourceCheck } from './check.js';
export { type ConnectContext, connectSource } from './connect.js';
export { type PlanProblem, type PulledSli, type PullPlan, planPulls } from './plan.js';
export {
  MINUTE_MS,
  type MinuteRange,
  type MinuteSeries,
  type PlannedQuery,
  type SliSource,
  type SourceClient,
  type SourceConnection,
  type SourceFailureReason,
  SourceQueryError,
  specText,
} from './port.js';
export { type PullerConfig, type PullerDeps, type PullSummary, SliPuller } from './puller.js';
export { isPulledType, SOURCES, sourceForType } from './registry.js';
