/**
 * API tokens: `shr_<id>_<secret>`, stored as a SHA-256 hash (a token is random and long, so a
 * slow password hash adds nothing). The clear token is shown once, at creation.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { type AuditScope, recordAudit } from '../audit/index.js';
import type { Clock } from '../clock.js';
import type { Db } from '../db/index.js';
import { conflict, invalid, notFound } from '../errors.js';

export const ROLES = ['viewer', 'editor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** viewer < editor < admin: a role may do what every lower role may. */
export function roleAllows(role: Role, needed: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(needed);
}

/**
 * Who made a request. `tokenId` identifies the credential without being a secret: an API token's
 * id, or `session:<first 8 hex of the session cookie's SHA-256>` for a person signed in by SSO.
 */
export interface Principal {
  readonly tokenId: string;
  readonly name: string;
  readonly role: Role;
  /** An API token (machines, the CLI) or an SSO browser session; absent means token. */
  readonly kind?: 'token' | 'session';
  /** Sessions: the first 16 hex of the cookie's SHA-256 (what auth_sessions is keyed by, shortened). */
  readonly sessionId?: string;
  /** Sessions: the provider's `sub`. */
  readonly subject?: string;
  /** Sessions: the verified e-mail address, when the provider gave one. */
  readonly email?: string | undefined;
  /**
   * The teams whose services this principal may change (docs/api.md#teams): a session's from the
   * provider's groups, a token's as created; absent or empty: every team.
   */
  readonly teams?: readonly string[];
}

export interface TokenInfo {
  readonly id: string;
  readonly name: string;
  readonly role: Role;
  /** The teams the token is scoped to; absent: every team. */
  readonly teams?: readonly string[];
  readonly createdAt: string;
  readonly lastUsedAt: string | null;
  readonly revokedAt: string | null;
}

const TOKEN = /^shr_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

const TEAM = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

function parseTeams(column: string | null): string[] | undefined {
  return column === null ? undefined : (JSON.parse(column) as string[]);
}

function hash(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** What the token use cases need: the database and the clock. */
export interface AuthDeps {
  readonly db: Db;
  readonly clock: Clock;
}

export async function createToken(
  { db, clock }: AuthDeps,
  input: { name: string; role: Role; teams?: readonly string[] | undefined },
  audit?: AuditScope,
): Promise<{ token: string; info: TokenInfo }> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(input.name))
    throw invalid(`token name "${input.name}" must be 1–63 letters, digits, ".", "_" or "-"`);
  if (!ROLES.includes(input.role)) throw invalid(`role must be one of ${ROLES.join(', ')}`);
  const teams = input.teams?.length ? [...new Set(input.teams)].sort() : undefined;
  for (const team of teams ?? [])
    if (!TEAM.test(team)) throw invalid(`team "${team}" must be 1–63 letters, digits, ".", "_" or "-"`);
  const id = randomBytes(9)
    .toString('base64url')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, 'x')
    .slice(0, 12);
  const token = `shr_${id}_${randomBytes(32).toString('base64url')}`;
  const now = clock.now();
  try {
    await db.kysely.transaction().execute(async (trx) => {
      await trx
        .insertInto('api_tokens')
        .values({
          id,
          name: input.name,
          role: input.role,
          token_hash: hash(token),
          created_at: now,
          last_used_at: null,
          revoked_at: null,
          teams: teams ? JSON.stringify(teams) : null,
        })
        .execute();
      // The token and its hash never reach the log: only what identifies it.
      await recordAudit(trx, audit, {
        action: 'token.create',
        targetType: 'token',
        targetId: id,
        after: { name: input.name, role: input.role, ...(teams ? { teams } : {}) },
        atMs: now,
      });
    });
  } catch (error) {
    if (/unique|duplicate/i.test((error as Error).message))
      throw conflict(`a token named "${input.name}" already exists`);
    throw error;
  }
  return {
    token,
    info: {
      id,
      name: input.name,
      role: input.role,
      ...(teams ? { teams } : {}),
      createdAt: new Date(now).toISOString(),
      lastUsedAt: null,
      revokedAt: null,
    },
  };
}

/** The principal for a presented token, or undefined when it is unknown, malformed or revoked. */
export async function verifyToken(
  { db, clock }: AuthDeps,
  presented: string,
): Promise<Principal | undefined> {
  if (!TOKEN.test(presented)) return undefined;
  const digest = hash(presented);
  const row = await db.kysely
    .selectFrom('api_tokens')
    .selectAll()
    .where('token_hash', '=', digest)
    .executeTakeFirst();
  if (!row || row.revoked_at !== null) return undefined;
  // The lookup is by hash already; compare again in constant time for good measure.
  if (!timingSafeEqual(Buffer.from(row.token_hash), Buffer.from(digest))) return undefined;
  const now = clock.now();
  // Recording use is best effort and coarse (once a minute) so reads do not become writes.
  if (row.last_used_at === null || now - row.last_used_at > 60_000)
    await db.kysely
      .updateTable('api_tokens')
      .set({ last_used_at: now })
      .where('id', '=', row.id)
      .execute()
      .catch(() => {});
  const teams = parseTeams(row.teams);
  return {
    tokenId: row.id,
    name: row.name,
    role: row.role as Role,
    kind: 'token',
    ...(teams ? { teams } : {}),
  };
}

export async function listTokens({ db }: AuthDeps): Promise<TokenInfo[]> {
  const rows = await db.kysely.selectFrom('api_tokens').selectAll().orderBy('created_at').execute();
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    role: r.role as Role,
    ...(r.teams === null ? {} : { teams: parseTeams(r.teams) }),
    createdAt: new Date(r.created_at).toISOString(),
    lastUsedAt: r.last_used_at === null ? null : new Date(r.last_used_at).toISOString(),
    revokedAt: r.revoked_at === null ? null : new Date(r.revoked_at).toISOString(),
  }));
}

export async function revokeToken(
  { db, clock }: AuthDeps,
  nameOrId: string,
  audit?: AuditScope,
): Promise<void> {
  const now = clock.now();
  await db.kysely.transaction().execute(async (trx) => {
    const active = await trx
      .selectFrom('api_tokens')
      .select(['id', 'name'])
      .where((eb) => eb.or([eb('name', '=', nameOrId), eb('id', '=', nameOrId)]))
      .where('revoked_at', 'is', null)
      .execute();
    if (!active.length) throw notFound(`no active token named "${nameOrId}"`);
    await trx
      .updateTable('api_tokens')
      .set({ revoked_at: now })
      .where(
        'id',
        'in',
        active.map((t) => t.id),
      )
      .execute();
    for (const token of active)
      await recordAudit(trx, audit, {
        action: 'token.revoke',
        targetType: 'token',
        targetId: token.id,
        before: { name: token.name, revokedAt: null },
        after: { name: token.name, revokedAt: new Date(now).toISOString() },
        atMs: now,
      });
  });
}
