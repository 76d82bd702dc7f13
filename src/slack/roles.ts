/**
 * Pure: the Shinrai role (and teams) of a Slack user under `slack.users`. Shinrai has no user
 * accounts of its own (API tokens carry a name and a role), so Slack users are given a role the
 * same way a token is: by configuration. A user's ID wins over their e-mail address, which wins
 * over "*". docs/slack.md#roles and #teams.
 */
import type { Role } from '../platform/auth/index.js';

/** What a `slack.users` entry gives: a role, and teams that scope an editor (docs/api.md#teams). */
export interface SlackGrant {
  readonly role: Role;
  readonly teams?: readonly string[] | undefined;
}

export type SlackUserRoles = Readonly<Record<string, SlackGrant>>;

/** The entry of a Slack user (by ID, then e-mail, then "*"), or undefined when unmapped. */
export function slackUserGrant(
  users: SlackUserRoles,
  userId: string,
  email?: string | undefined,
): SlackGrant | undefined {
  if (Object.hasOwn(users, userId)) return users[userId];
  const mail = email?.trim().toLowerCase();
  if (mail && Object.hasOwn(users, mail)) return users[mail];
  return Object.hasOwn(users, '*') ? users['*'] : undefined;
}

/** The role of a Slack user (by ID, then e-mail, then "*"), or undefined when unmapped. */
export function slackUserRole(
  users: SlackUserRoles,
  userId: string,
  email?: string | undefined,
): Role | undefined {
  return slackUserGrant(users, userId, email)?.role;
}

/** Whether resolving a role may need the user's e-mail (users.info with users:read.email). */
export function rolesNeedEmail(users: SlackUserRoles, userId: string): boolean {
  return !Object.hasOwn(users, userId) && Object.keys(users).some((key) => key.includes('@'));
}
