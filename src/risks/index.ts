/** The public face of `risks/` (risk catalog, analysis, backlog, availability calculator); other folders import only this file. */
export { DEFAULT_TOO_BIG_SHARE, type RiskAnalysis } from './analysis.js';
export type { AvailabilityResult, CalcIssue } from './availability.js';
export { calculateFromInput, parseAvailability } from './availability-input.js';
export { availabilityRoutes } from './availability-routes.js';
export { backlogCsv, backlogMarkdown, type ServiceBacklog } from './backlog.js';
export { catalogRiskAnalysis } from './catalog.js';
export { riskRoutes } from './routes.js';
