/** The public face of `incidents/` (incidents, action items, postmortems, reviews, status page); other folders import only this file. */
export { actionItemRoutes } from './action-item-routes.js';
export { listActionItems } from './action-item-service.js';
export type { ActionItem } from './action-items.js';
export { AutoDeclarer } from './auto-declare.js';
export { catchUpSummary } from './catchup.js';
export { type BudgetImpact, budgetImpact } from './impact.js';
export { incidentFromAlert } from './intake.js';
export { integrationRoutes } from './integrations.js';
export { WRITE_UP_LANGUAGES, type WriteUpLanguage } from './language.js';
export { CatchUpWriter } from './llm.js';
export { type IncidentStatus, STATUSES } from './model.js';
export { postmortemRoutes } from './postmortem-routes.js';
export { createPostmortem, listPostmortems } from './postmortems.js';
export { type Review, reviewMarkdown } from './review.js';
export { reviewRoutes } from './review-routes.js';
export { incidentRoutes } from './routes.js';
export {
  type Actor,
  addNote,
  type CauseInput,
  type ChangeInput,
  changeIncident,
  declareIncident,
  getIncident,
  type Incident,
  type IncidentCause,
  type IncidentChange,
  type IncidentDeps,
  listIncidents,
  markEvent,
  reviseNote,
  severityScale,
  type TimelineEvent,
} from './service.js';
export { statusPageRoutes } from './status-page-routes.js';
export { subscribeForm } from './status-subscription-mail.js';
export { statusSubscriptionRoutes } from './status-subscription-routes.js';
export { StatusSubscriptions } from './status-subscriptions.js';
export {
  actionItemTouches,
  alertmanagerTouches,
  incidentTouches,
  postmortemTouches,
  type Touched,
} from './touches.js';
