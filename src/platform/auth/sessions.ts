/**
 * Use cases over the database for single sign-on: logins in flight (`auth_logins`) and the browser
 * sessions they open (`auth_sessions`). Only SHA-256 digests of the browser's secrets are stored,
 * so a copy of the database opens no session. docs/sso.md.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { SignedInPerson } from './claims.js';
import type { AuthDeps, Principal, Role } from './tokens.js';

/** `auth.sessions`: how long a session lasts. */
export interface SessionSettings {
  readonly idleMinutes: number;
  readonly absoluteHours: number;
}

export interface SessionDeps extends AuthDeps {
  readonly sessions: SessionSettings;
}

/** A login is answered by the provider within this, or started again. */
export const LOGIN_TTL_MS = 10 * 60_000;

/** last_seen_at is written at most this often, so reads do not all become writes. */
const SLIDE_EVERY_MS = 60_000;

function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/** A fresh random secret for a cookie. */
export function randomSecret(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The CSRF token of a session: derived from the cookie's secret, so it is stored nowhere and only
 * someone who holds the cookie's value (the browser, which never shows it to scripts) or was told
 * it by whoami (the page of this origin) knows it.
 */
export function csrfTokenFor(sessionSecret: string): string {
  return createHash('sha256').update(`shinrai-csrf\0${sessionSecret}`).digest('base64url');
}

/** Constant-time comparison of a presented CSRF token with the session's. */
export function csrfMatches(sessionSecret: string, presented: string | undefined): boolean {
  if (!presented) return false;
  const expected = Buffer.from(csrfTokenFor(sessionSecret));
  const given = Buffer.from(presented);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export interface PendingLogin {
  readonly state: string;
  readonly browserSecret: string;
  readonly codeVerifier: string;
  readonly nonce: string;
  readonly returnTo: string;
}

/** Records a login the browser is about to start at the provider; old unanswered logins go. */
export async function saveLogin({ db, clock }: AuthDeps, login: PendingLogin): Promise<void> {
  const now = clock.now();
  await db.kysely.deleteFrom('auth_logins').where('expires_at', '<', now).execute();
  await db.kysely
    .insertInto('auth_logins')
    .values({
      state_hash: sha256(login.state),
      browser_hash: sha256(login.browserSecret),
      code_verifier: login.codeVerifier,
      nonce: login.nonce,
      return_to: login.returnTo,
      expires_at: now + LOGIN_TTL_MS,
    })
    .execute();
}

export type TakenLogin =
  | { readonly ok: true; readonly codeVerifier: string; readonly nonce: string; readonly returnTo: string }
  | { readonly ok: false; readonly error: string };

/**
 * The login a callback answers, removed in the same statement (one replica takes it, once): a
 * replayed or forged callback finds nothing.
 */
export async function takeLogin(
  { db, clock }: AuthDeps,
  state: string,
  browserSecret: string | undefined,
): Promise<TakenLogin> {
  const row = await db.kysely
    .deleteFrom('auth_logins')
    .where('state_hash', '=', sha256(state))
    .returningAll()
    .executeTakeFirst();
  if (!row)
    return {
      ok: false,
      error:
        'this sign-in is unknown or was already used (the state does not match a login in progress); sign in again',
    };
  if (Number(row.expires_at) < clock.now())
    return { ok: false, error: 'this sign-in took longer than 10 minutes; sign in again' };
  if (!browserSecret || sha256(browserSecret) !== row.browser_hash)
    return {
      ok: false,
      error:
        'this sign-in was started in another browser (its login cookie is missing or different); sign in again',
    };
  return { ok: true, codeVerifier: row.code_verifier, nonce: row.nonce, returnTo: row.return_to };
}

export interface OpenedSession {
  /** The cookie's value: shown to the browser once, stored only as a digest. */
  readonly secret: string;
  readonly csrfToken: string;
  readonly expiresAt: number;
}

/**
 * Opens a session for a person the provider signed in. A session the browser already had is
 * ended first (rotation: an identifier planted before sign-in is worth nothing after it).
 */
export async function openSession(
  deps: SessionDeps,
  person: SignedInPerson,
  options: {
    readonly idToken?: string | undefined;
    /** The provider's session id (the ID token's `sid`), for back-channel logout. */
    readonly sid?: string | undefined;
    readonly replacing?: string | undefined;
  },
): Promise<OpenedSession> {
  const { db, clock, sessions } = deps;
  const now = clock.now();
  if (options.replacing) await endSession(deps, options.replacing);
  await db.kysely.deleteFrom('auth_sessions').where('expires_at', '<', now).execute();
  const secret = randomSecret();
  const expiresAt = now + sessions.absoluteHours * 3_600_000;
  await db.kysely
    .insertInto('auth_sessions')
    .values({
      id_hash: sha256(secret),
      subject: person.subject,
      name: person.name,
      email: person.email,
      role: person.role,
      teams: JSON.stringify(person.teams),
      id_token: options.idToken ?? null,
      sid: options.sid ?? null,
      created_at: now,
      last_seen_at: now,
      expires_at: expiresAt,
    })
    .execute();
  return { secret, csrfToken: csrfTokenFor(secret), expiresAt };
}

/** The audit-safe handle of a session: a prefix of its digest, never the cookie. */
export function sessionHandle(secret: string): { readonly tokenId: string; readonly sessionId: string } {
  const digest = sha256(secret);
  return { tokenId: `session:${digest.slice(0, 8)}`, sessionId: digest.slice(0, 16) };
}

/**
 * The principal of a presented session cookie, or why there is none: unknown (signed out, or
 * never), idle too long, or past its absolute end. An expired session is deleted.
 */
export async function verifySession(
  deps: SessionDeps,
  secret: string,
): Promise<
  { readonly ok: true; readonly principal: Principal } | { readonly ok: false; readonly error: string }
> {
  const { db, clock, sessions } = deps;
  if (!/^[A-Za-z0-9_-]{43}$/.test(secret))
    return { ok: false, error: 'the session cookie is malformed; sign in again' };
  const idHash = sha256(secret);
  const row = await db.kysely
    .selectFrom('auth_sessions')
    .selectAll()
    .where('id_hash', '=', idHash)
    .executeTakeFirst();
  if (!row) return { ok: false, error: 'the session has ended (signed out, or unknown); sign in again' };
  const now = clock.now();
  const idleEnd = Number(row.last_seen_at) + sessions.idleMinutes * 60_000;
  if (now >= Number(row.expires_at) || now >= idleEnd) {
    await db.kysely.deleteFrom('auth_sessions').where('id_hash', '=', idHash).execute();
    return {
      ok: false,
      error:
        now >= Number(row.expires_at)
          ? `the session has expired (sessions last ${sessions.absoluteHours} h); sign in again`
          : `the session has expired after ${sessions.idleMinutes} min without use; sign in again`,
    };
  }
  if (now - Number(row.last_seen_at) > SLIDE_EVERY_MS)
    await db.kysely
      .updateTable('auth_sessions')
      .set({ last_seen_at: now })
      .where('id_hash', '=', idHash)
      .execute()
      .catch(() => {});
  return {
    ok: true,
    principal: {
      ...sessionHandle(secret),
      kind: 'session',
      name: row.name,
      role: row.role as Role,
      subject: row.subject,
      email: row.email ?? undefined,
      teams: parseTeams(row.teams),
    },
  };
}

/** Ends a session (sign-out); answers its ID token for the provider's logout, if it had one. */
export async function endSession(
  { db }: AuthDeps,
  secret: string,
): Promise<{ readonly ended: boolean; readonly idToken: string | undefined }> {
  const row = await db.kysely
    .deleteFrom('auth_sessions')
    .where('id_hash', '=', sha256(secret))
    .returning(['id_token'])
    .executeTakeFirst();
  return { ended: row !== undefined, idToken: row?.id_token ?? undefined };
}

/**
 * Records a back-channel logout token as taken; false when it was taken before (a replay, on this
 * replica or another). Kept until `expiresAt`, past which the token is refused as too old anyway.
 */
export async function takeLogoutToken(
  { db, clock }: AuthDeps,
  token: { readonly issuer: string; readonly jti: string; readonly expiresAt: number },
): Promise<boolean> {
  await db.kysely.deleteFrom('auth_logout_tokens').where('expires_at', '<', clock.now()).execute();
  const inserted = await db.kysely
    .insertInto('auth_logout_tokens')
    .values({ jti_hash: sha256(`${token.issuer}\0${token.jti}`), expires_at: token.expiresAt })
    .onConflict((c) => c.column('jti_hash').doNothing())
    .executeTakeFirst();
  return Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1;
}

/**
 * Ends the sessions a back-channel logout token names: those of the provider's session `sid`
 * (and of `sub`, when both are given), or every session of `sub` when only it is given.
 * Answers how many ended.
 */
export async function endSessionsOf(
  { db }: AuthDeps,
  logout: { readonly sid?: string | undefined; readonly sub?: string | undefined },
): Promise<number> {
  let query = db.kysely.deleteFrom('auth_sessions');
  if (logout.sid !== undefined) query = query.where('sid', '=', logout.sid);
  if (logout.sub !== undefined) query = query.where('subject', '=', logout.sub);
  if (logout.sid === undefined && logout.sub === undefined) return 0;
  const result = await query.executeTakeFirst();
  return Number(result.numDeletedRows);
}

function parseTeams(text: string): readonly string[] {
  try {
    const teams = JSON.parse(text) as unknown;
    return Array.isArray(teams) ? teams.filter((t): t is string => typeof t === 'string') : [];
  } catch {
    return [];
  }
}
