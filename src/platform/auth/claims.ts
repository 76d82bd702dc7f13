/**
 * Pure: who a person signed in by the OpenID provider is in Shinrai — name, e-mail, role and teams
 * from the ID token's (and userinfo's) claims, per `auth.oidc.groups` / `defaultRole` /
 * `allowedDomains`, or as an admin assigned them in Shinrai. A person the mapping gives no role is refused with a reason they can act on.
 */
import type { Role } from './tokens.js';
import { ROLES } from './tokens.js';

/** The part of `auth.oidc` the mapping reads. */
export interface ClaimMapping {
  readonly groupsClaim: string;
  readonly groups: Readonly<
    Record<string, { readonly role?: Role | undefined; readonly teams: readonly string[] }>
  >;
  readonly defaultRole?: Role | undefined;
  readonly allowedDomains: readonly string[];
}

export interface SignedInPerson {
  readonly subject: string;
  readonly name: string;
  readonly email: string | null;
  readonly role: Role;
  readonly teams: readonly string[];
}

export type MappedPerson =
  | { readonly ok: true; readonly person: SignedInPerson }
  | { readonly ok: false; readonly error: string };

/**
 * A claim's groups: a list of strings, or one string (some providers send a single group, or a
 * space/comma-separated list). Anything else counts as no groups.
 */
export function groupsOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((g): g is string => typeof g === 'string' && g !== '');
  if (typeof value === 'string') return value.split(/[\s,]+/).filter(Boolean);
  return [];
}

/** Reads a claim by name; a dotted name (`realm_access.roles`, Keycloak's) walks into objects. */
export function claimAt(claims: Readonly<Record<string, unknown>>, name: string): unknown {
  if (name in claims) return claims[name];
  let current: unknown = claims;
  for (const part of name.split('.')) {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

/** A role and teams an admin assigned to the person in Shinrai: they win over the groups. */
export interface Assignment {
  readonly role: Role;
  readonly teams: readonly string[];
}

/** The provider's subject and the person's verified e-mail address (lower case), what an assignment is found by. */
export function identityOf(claims: Readonly<Record<string, unknown>>): {
  readonly subject: string;
  readonly email: string | null;
} {
  const subject = typeof claims.sub === 'string' ? claims.sub : '';
  const rawEmail = typeof claims.email === 'string' ? claims.email.trim().toLowerCase() : '';
  // An address the provider says it has not verified is someone's claim, not an identity.
  return { subject, email: rawEmail && claims.email_verified !== false ? rawEmail : null };
}

export function mapClaims(
  claims: Readonly<Record<string, unknown>>,
  mapping: ClaimMapping,
  assignment?: Assignment,
): MappedPerson {
  const { subject, email } = identityOf(claims);
  if (!subject) return { ok: false, error: 'the provider named no subject (sub) for this person' };
  if (mapping.allowedDomains.length) {
    const domain = email?.slice(email.lastIndexOf('@') + 1);
    if (!domain || !mapping.allowedDomains.includes(domain))
      return {
        ok: false,
        error: email
          ? `${email} is not in a domain allowed to sign in (${mapping.allowedDomains.join(', ')})`
          : 'the provider gave no verified e-mail address, and sign-in is limited to some domains',
      };
  }
  const name = firstString(claims.name, claims.preferred_username, email, subject) ?? subject;
  if (assignment)
    return {
      ok: true,
      person: { subject, name, email, role: assignment.role, teams: [...assignment.teams].sort() },
    };
  const groups = groupsOf(claimAt(claims, mapping.groupsClaim));
  let role: Role | undefined;
  const teams = new Set<string>();
  for (const group of groups) {
    const entry = mapping.groups[group];
    if (!entry) continue;
    if (entry.role && (role === undefined || ROLES.indexOf(entry.role) > ROLES.indexOf(role)))
      role = entry.role;
    for (const team of entry.teams) teams.add(team);
  }
  role ??= mapping.defaultRole;
  if (role === undefined)
    return {
      ok: false,
      error: `${name} is in none of the groups that give a role in Shinrai (claim "${mapping.groupsClaim}"${
        groups.length ? `: ${groups.slice(0, 10).join(', ')}${groups.length > 10 ? ', …' : ''}` : ' is empty'
      }); ask an administrator to add you to one`,
    };
  return { ok: true, person: { subject, name, email, role, teams: [...teams].sort() } };
}

function firstString(...values: unknown[]): string | undefined {
  for (const value of values)
    if (typeof value === 'string' && value.trim()) return value.trim().slice(0, 200);
  return undefined;
}
