/**
 * Use cases over the database: roles and teams an admin assigns to a person in Shinrai
 * (`auth_people`), which win over the OpenID provider's groups — for providers without a groups
 * claim (Google) and for exceptions. A person is a verified e-mail address or the provider's
 * subject. A change reaches the person's open sessions at once; removing one ends them.
 */

import { type AuditScope, recordAudit } from '../audit/index.js';
import { invalid, notFound } from '../errors.js';
import type { Assignment } from './claims.js';
import type { AuthDeps, Role } from './tokens.js';

export interface PersonAssignment {
  readonly person: string;
  readonly role: Role;
  readonly teams: string[];
  readonly assignedBy: string;
  readonly assignedAt: string;
}

const TEAM = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** An e-mail address is kept in lower case (as sessions keep it); a subject as the provider wrote it. */
export function personKey(raw: string): string {
  const person = raw.trim();
  // biome-ignore lint/suspicious/noControlCharactersInRegex: a name with control characters is refused
  if (!person || person.length > 320 || /[\u0000-\u001f\u007f]/.test(person))
    throw invalid(
      "a person is an e-mail address or the provider's subject (sub): 1–320 printable characters",
    );
  return person.includes('@') ? person.toLowerCase() : person;
}

export async function assignPerson(
  { db, clock }: AuthDeps,
  input: { person: string; role: Role; teams: readonly string[] },
  assignedBy: string,
  audit?: AuditScope,
): Promise<PersonAssignment> {
  const person = personKey(input.person);
  const bad = input.teams.find((team) => !TEAM.test(team));
  if (bad !== undefined) throw invalid(`team "${bad}" must be letters, digits, ".", "_" or "-" (at most 63)`);
  const teams = JSON.stringify([...new Set(input.teams)].sort());
  const now = clock.now();
  await db.kysely.transaction().execute(async (tx) => {
    const before = await tx
      .selectFrom('auth_people')
      .select(['role', 'teams'])
      .where('person', '=', person)
      .executeTakeFirst();
    await tx
      .insertInto('auth_people')
      .values({ person, role: input.role, teams, assigned_by: assignedBy, assigned_at: now })
      .onConflict((oc) =>
        oc
          .column('person')
          .doUpdateSet({ role: input.role, teams, assigned_by: assignedBy, assigned_at: now }),
      )
      .execute();
    // Open sessions take the new role now, not at the next sign-in.
    await tx
      .updateTable('auth_sessions')
      .set({ role: input.role, teams })
      .where((eb) => eb.or([eb('subject', '=', person), eb('email', '=', person)]))
      .execute();
    await recordAudit(tx, audit, {
      action: 'person.assign',
      targetType: 'person',
      targetId: person,
      before: before ? { role: before.role, teams: JSON.parse(before.teams) as string[] } : null,
      after: { role: input.role, teams: JSON.parse(teams) as string[] },
      atMs: now,
    });
  });
  return {
    person,
    role: input.role,
    teams: JSON.parse(teams) as string[],
    assignedBy,
    assignedAt: new Date(now).toISOString(),
  };
}

export async function listPeople({ db }: AuthDeps): Promise<PersonAssignment[]> {
  const rows = await db.kysely.selectFrom('auth_people').selectAll().orderBy('person').execute();
  return rows.map((row) => ({
    person: row.person,
    role: row.role as Role,
    teams: JSON.parse(row.teams) as string[],
    assignedBy: row.assigned_by,
    assignedAt: new Date(Number(row.assigned_at)).toISOString(),
  }));
}

/** Removes an assignment and ends the person's sessions: their next sign-in follows the provider's groups. */
export async function unassignPerson(
  { db, clock }: AuthDeps,
  raw: string,
  audit?: AuditScope,
): Promise<{ endedSessions: number }> {
  const person = personKey(raw);
  return db.kysely.transaction().execute(async (tx) => {
    const before = await tx
      .selectFrom('auth_people')
      .select(['role', 'teams'])
      .where('person', '=', person)
      .executeTakeFirst();
    if (!before) throw notFound(`no role is assigned to ${person}`);
    await tx.deleteFrom('auth_people').where('person', '=', person).execute();
    const ended = await tx
      .deleteFrom('auth_sessions')
      .where((eb) => eb.or([eb('subject', '=', person), eb('email', '=', person)]))
      .executeTakeFirst();
    await recordAudit(tx, audit, {
      action: 'person.unassign',
      targetType: 'person',
      targetId: person,
      before: { role: before.role, teams: JSON.parse(before.teams) as string[] },
      after: null,
      atMs: clock.now(),
    });
    return { endedSessions: Number(ended.numDeletedRows) };
  });
}

/** The assignment for a person signing in: by subject first, then by verified e-mail address. */
export async function assignmentFor(
  { db }: AuthDeps,
  identity: { readonly subject: string; readonly email: string | null },
): Promise<Assignment | undefined> {
  const keys = [identity.subject, ...(identity.email ? [identity.email] : [])].filter(Boolean);
  if (!keys.length) return undefined;
  const rows = await db.kysely.selectFrom('auth_people').selectAll().where('person', 'in', keys).execute();
  const row = rows.find((r) => r.person === identity.subject) ?? rows[0];
  return row ? { role: row.role as Role, teams: JSON.parse(row.teams) as string[] } : undefined;
}
