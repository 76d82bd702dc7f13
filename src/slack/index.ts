/** The public face of `slack/` (the Slack app: Web API client, role mapping); other folders import only this file. */

export {
  DECLARE_CALLBACK,
  SlackApp,
  type SlackAppDeps,
  type SlackPerson,
  slackEnabled,
  slackRoleHolder,
  slackUserIdOf,
} from './app.js';
export { CARD_ACTIONS, channelName, incidentCard } from './card.js';
export {
  describeSlackError,
  SLACK_API_URL,
  SlackApi,
  type SlackApiOptions,
  type SlackCallFailure,
} from './client.js';
export {
  lastStatusUpdateMs,
  MESSAGE_EVENT_TYPE,
  queueIncidentCalls,
  queueSlackPost,
  SlackOutbox,
  type SlackOutboxDeps,
  updateIntervalMinutes,
} from './outbox.js';
export { FastifyReceiver, requestKey, SLACK_PATH } from './receiver.js';
export { rolesNeedEmail, type SlackUserRoles, slackUserRole } from './roles.js';
export {
  channelIncident,
  type IncidentChannel,
  incidentChannel,
  linkIncidentChannel,
} from './store.js';
export { languageOf, parseSlashCommand, SLACK_TEXT, type SlackLanguage } from './text.js';
