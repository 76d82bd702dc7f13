/** The public face of `delivery/` (deployments, changes, DORA metrics); other folders import only this file. */
export { type DeploymentWithImpact, deploymentImpact, deploymentsWithImpact } from './impact.js';
export {
  BENCHMARK_YEARS,
  benchmarkSource,
  benchmarkTable,
  LATEST_BENCHMARK_YEAR,
  type Level,
  type LevelMetric,
  levelFor,
} from './levels.js';
export {
  computeDeliveryMetrics,
  type DeliveryMetrics,
  type DeliveryMetricsInput,
  type WeekPoint,
} from './metrics.js';
export { deliveryMetrics, type MetricsQuery, periodBounds } from './metrics-service.js';
export * from './model.js';
export { deliveryRoutes, deploymentBodySchema, deploymentView } from './routes.js';
export {
  checkCause,
  countConfirmedCause,
  type DeliveryDeps,
  type DeliverySettings,
  getDeployment,
  productionEnvironment,
  recordChanges,
  recordDeployment,
  type StoredDeployment,
  suspects,
} from './service.js';
export { refreshSummaries } from './summaries.js';
export { deliveryWebhookDeps, type WebhookSettings } from './webhooks/deps.js';
export { receiveGeneric, receiveGithub, receiveGitlab, type WebhookDeps } from './webhooks/receive.js';
export { deliveryWebhookRoutes } from './webhooks/routes.js';
export { pruneDeliveries, seenDeliveries } from './webhooks/store.js';
export { hmacSignature } from './webhooks/verify.js';
