/**
 * The OTLP/HTTP metrics receiver: OpenTelemetry SLIs (DataSource type `OpenTelemetry` or `otlp`)
 * fed by exports from an OpenTelemetry Collector or SDK. See docs/sources.md.
 */
export { checkOtlpSources, isOtlpType, OTLP_TYPES, otlpPlan } from './plan.js';
export { type OtlpRouteDeps, otlpRoutes } from './routes.js';
export type { OtlpContext, OtlpLimits } from './service.js';
