/**
 * Pure: the Shinrai role of a Slack user under `slack.users`. Shinrai has no user accounts of its
 * own (API tokens carry a name and a role), so Slack users are given a role the same way a token
 * is: by configuration. A user's ID wins over their e-mail address, which wins over "*".
 */
import type { Role } from '../platform/auth/index.js';

export type SlackUserRoles = Readonly<Record<string, Role>>;

/** The role of a Slack user (by ID, then e-mail, then "*"), or undefined when unmapped. */
export function slackUserRole(
  users: SlackUserRoles,
  userId: string,
  email?: string | undefined,
): Role | undefined {
  if (Object.hasOwn(users, userId)) return users[userId];
  const mail = email?.trim().toLowerCase();
  if (mail && Object.hasOwn(users, mail)) return users[mail];
  return Object.hasOwn(users, '*') ? users['*'] : undefined;
}

/** Whether resolving a role may need the user's e-mail (users.info with users:read.email). */
export function rolesNeedEmail(users: SlackUserRoles, userId: string): boolean {
  return !Object.hasOwn(users, userId) && Object.keys(users).some((key) => key.includes('@'));
}
