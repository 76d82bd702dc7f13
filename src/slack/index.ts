/** The public face of `slack/` (the Slack app: Web API client, role mapping); other folders import only this file. */
export {
  describeSlackError,
  SLACK_API_URL,
  SlackApi,
  type SlackApiOptions,
  type SlackCallFailure,
} from './client.js';
export { rolesNeedEmail, type SlackUserRoles, slackUserRole } from './roles.js';
