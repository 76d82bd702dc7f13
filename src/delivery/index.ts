/** The public face of `delivery/` (deployments, changes, DORA metrics); other folders import only this file. */
export { type DeploymentWithImpact, deploymentImpact, deploymentsWithImpact } from './impact.js';
export * from './model.js';
export { deliveryRoutes, deploymentBodySchema, deploymentView } from './routes.js';
export {
  checkCause,
  type DeliveryDeps,
  type DeliverySettings,
  productionEnvironment,
  type RecordDeploymentInput,
  recordChanges,
  recordDeployment,
  type StoredDeployment,
} from './service.js';
