/**
 * Single sign-on routes (thin adapter over platform/auth): GET /auth/config, GET /auth/login →
 * the provider, GET /auth/callback → a new session cookie, POST /auth/logout, and POST
 * /auth/backchannel-logout (the provider ending sessions: logout-token.ts). A refused sign-in
 * answers a short bilingual page to a browser and problem+json to anything else. docs/sso.md.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf } from '../audit/index.js';
import {
  assignmentFor,
  assignPerson,
  type ClaimMapping,
  csrfMatches,
  endSession,
  endSessionsOf,
  identityOf,
  listPeople,
  mapClaims,
  type OidcClient,
  OidcError,
  openSession,
  parseCookies,
  ROLES,
  randomSecret,
  type SessionDeps,
  safeReturnPath,
  saveLogin,
  serializeCookie,
  takeLogin,
  takeLogoutToken,
  unassignPerson,
  verifySession,
} from '../auth/index.js';
import { AppError } from '../errors.js';
import { toProblem } from './problem.js';
import type { App } from './server.js';

export interface AuthRouteDeps extends SessionDeps {
  /** Undefined when auth.oidc is not configured: the routes then say single sign-on is off. */
  readonly oidc: OidcClient | undefined;
  readonly mapping: ClaimMapping | undefined;
  /** The registered redirect URL (auth.oidc.redirectUrl); the path above its /auth/callback is where logout returns. */
  readonly redirectUrl: string;
  readonly cookie: { readonly name: string; readonly secure: boolean };
}

/** The header a cookie-authenticated write carries (docs/sso.md#csrf). */
export const CSRF_HEADER = 'x-csrf-token';

export function authRoutes(deps: AuthRouteDeps) {
  const loginCookie = `${deps.cookie.name}_login`;
  const sessionMaxAgeSeconds = deps.sessions.absoluteHours * 3600;
  // Behind a proxy that serves Shinrai under a path (https://host/shinrai/), the browser's paths
  // are the redirect URL's: the login cookie goes to its path, logout returns to its base.
  const callbackPath = deps.oidc ? new URL(deps.redirectUrl).pathname : '/auth/callback';
  const postLogoutUrl = deps.oidc ? new URL('../', deps.redirectUrl).href : '';

  const requireSso = (): { oidc: OidcClient; mapping: ClaimMapping } => {
    if (!deps.oidc || !deps.mapping)
      throw new AppError(
        'NotFound',
        'single sign-on is not configured on this server (auth.oidc); use an API token',
      );
    return { oidc: deps.oidc, mapping: deps.mapping };
  };

  return (app: App) => {
    const typed = app.withTypeProvider<ZodTypeProvider>();

    typed.get(
      '/auth/config',
      {
        config: { minRole: 'public' },
        schema: {
          tags: ['auth'],
          summary: 'Whether single sign-on is on, and where a browser starts it',
          response: { 200: z.object({ sso: z.boolean(), loginUrl: z.string().nullable() }) },
        },
      },
      async () => ({ sso: deps.oidc !== undefined, loginUrl: deps.oidc ? '/auth/login' : null }),
    );

    typed.get(
      '/auth/login',
      {
        config: { minRole: 'public' },
        schema: {
          tags: ['auth'],
          summary: 'Starts a sign-in at the OpenID provider (302); `return` is the path to come back to',
          // A browser's navigation or its cookie, not the bearer API: docs/sso.md describes it.
          hide: true,
          querystring: z.object({ return: z.string().max(2000).optional() }),
        },
      },
      async (request, reply) =>
        answerBrowser(request, reply, async () => {
          const { oidc } = requireSso();
          const authorization = await oidc.authorizationRequest().catch(rethrow);
          const browserSecret = randomSecret();
          await saveLogin(deps, {
            state: authorization.state,
            browserSecret,
            codeVerifier: authorization.codeVerifier,
            nonce: authorization.nonce,
            returnTo: safeReturnPath(request.query.return),
          });
          return reply
            .header('cache-control', 'no-store')
            .header(
              'set-cookie',
              serializeCookie(loginCookie, browserSecret, {
                secure: deps.cookie.secure,
                path: callbackPath,
                maxAgeSeconds: 600,
              }),
            )
            .redirect(authorization.url, 302);
        }),
    );

    typed.get(
      '/auth/callback',
      {
        config: { minRole: 'public' },
        schema: {
          tags: ['auth'],
          summary: "The OpenID provider's answer: opens a session (cookie) and goes back (302)",
          // A browser's navigation or its cookie, not the bearer API: docs/sso.md describes it.
          hide: true,
          querystring: z.object({ state: z.string().max(2000).optional() }).loose(),
        },
      },
      async (request, reply) =>
        answerBrowser(request, reply, async () => {
          const { oidc, mapping } = requireSso();
          const cookies = parseCookies(request.headers.cookie);
          const clearLogin = serializeCookie(loginCookie, '', {
            secure: deps.cookie.secure,
            path: callbackPath,
            maxAgeSeconds: 0,
          });
          reply.header('cache-control', 'no-store').header('set-cookie', clearLogin);
          const state = request.query.state;
          if (!state)
            throw new AppError('Invalid', 'the answer carries no state; start the sign-in from Shinrai');
          const login = await takeLogin(deps, state, cookies.get(loginCookie));
          if (!login.ok) throw new AppError('Invalid', login.error);
          const query = request.url.slice(request.url.indexOf('?') + 1);
          const signedIn = await oidc
            .signIn(query, { state, nonce: login.nonce, codeVerifier: login.codeVerifier })
            .catch(rethrow);
          const assigned = await assignmentFor(deps, identityOf(signedIn.claims));
          const mapped = mapClaims(signedIn.claims, mapping, assigned);
          if (!mapped.ok) throw new AppError('Forbidden', mapped.error);
          const sid = signedIn.claims.sid;
          const session = await openSession(deps, mapped.person, {
            idToken: signedIn.idToken,
            sid: typeof sid === 'string' ? sid : undefined,
            replacing: cookies.get(deps.cookie.name),
          });
          return reply
            .header('set-cookie', [
              clearLogin,
              serializeCookie(deps.cookie.name, session.secret, {
                secure: deps.cookie.secure,
                maxAgeSeconds: sessionMaxAgeSeconds,
              }),
            ])
            .redirect(login.returnTo, 302);
        }),
    );

    typed.post(
      '/auth/logout',
      {
        config: { minRole: 'public' },
        schema: {
          tags: ['auth'],
          summary:
            "Ends the caller's session (needs X-CSRF-Token) and names the provider's logout URL, if any",
          // A browser's navigation or its cookie, not the bearer API: docs/sso.md describes it.
          hide: true,
          response: { 200: z.object({ endSessionUrl: z.string().nullable() }) },
        },
      },
      async (request, reply) => {
        const secret = parseCookies(request.headers.cookie).get(deps.cookie.name);
        reply.header('cache-control', 'no-store');
        const current = secret && deps.oidc ? await verifySession(deps, secret) : undefined;
        // A live session is ended only by its own page: another site cannot sign the person out.
        if (secret && current?.ok && !csrfMatches(secret, headerValue(request.headers[CSRF_HEADER])))
          throw new AppError(
            'Forbidden',
            'signing out needs the X-CSRF-Token header (GET /api/v1/whoami gives it)',
          );
        reply.header(
          'set-cookie',
          serializeCookie(deps.cookie.name, '', { secure: deps.cookie.secure, maxAgeSeconds: 0 }),
        );
        if (!secret || !deps.oidc) return { endSessionUrl: null };
        const ended = await endSession(deps, secret);
        if (!ended.ended) return { endSessionUrl: null };
        return { endSessionUrl: (await deps.oidc.endSessionUrl(ended.idToken, postLogoutUrl)) ?? null };
      },
    );

    // OpenID Connect Back-Channel Logout 1.0: the provider POSTs a signed logout token (form
    // body) when a person signs out there; the sessions it names end here, on every replica.
    app.register(async (scope) => {
      scope.addContentTypeParser(
        LOGOUT_FORM,
        { parseAs: 'string', bodyLimit: LOGOUT_BODY_LIMIT_BYTES },
        (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
      );
      scope.withTypeProvider<ZodTypeProvider>().post(
        '/auth/backchannel-logout',
        {
          config: { minRole: 'public' },
          schema: {
            tags: ['auth'],
            summary:
              "OpenID Connect back-channel logout: the provider's signed logout_token ends the sessions it names",
            // The provider's call, not the bearer API: docs/sso.md#back-channel-logout describes it.
            hide: true,
            body: z.object({ logout_token: z.string().min(1).max(16_384) }).loose(),
          },
        },
        async (request, reply) => {
          reply.header('cache-control', 'no-store');
          const { oidc } = requireSso();
          if ((request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase() !== LOGOUT_FORM)
            throw new AppError('UnsupportedMediaType', `send the logout_token as ${LOGOUT_FORM}`);
          const check = await oidc.checkLogoutToken(request.body.logout_token, deps.clock.now());
          if (!check.ok) throw new AppError(check.status === 400 ? 'Invalid' : 'Unavailable', check.error);
          const { token } = check;
          if (!(await takeLogoutToken(deps, { ...token, expiresAt: token.acceptedUntil })))
            throw new AppError('Invalid', 'this logout token was already used (its jti was seen)');
          const ended = await endSessionsOf(deps, { sid: token.sid, sub: token.sub });
          request.log.info(
            { sessions: ended, sid: token.sid !== undefined, sub: token.sub !== undefined },
            'back-channel logout: the OpenID provider ended sessions',
          );
          return reply.code(200).send();
        },
      );
    });
  };
}

const LOGOUT_FORM = 'application/x-www-form-urlencoded';
const LOGOUT_BODY_LIMIT_BYTES = 32_768;

/**
 * Roles an admin assigns to people in Shinrai, over the provider's groups (docs/sso.md#roles-and-teams).
 * Admin only, reading included: the list says who holds which role.
 */
export function peopleRoutes(deps: SessionDeps) {
  const assignment = z.object({
    person: z.string(),
    role: z.enum(ROLES),
    teams: z.array(z.string()),
    assignedBy: z.string(),
    assignedAt: z.string(),
  });
  const person = z.object({ person: z.string().min(1).max(320) });
  return (app: App) => {
    const typed = app.withTypeProvider<ZodTypeProvider>();
    typed.get(
      '/api/v1/auth/people',
      {
        config: { minRole: 'admin' },
        schema: {
          tags: ['auth'],
          summary: 'Roles and teams assigned to people in Shinrai (they win over the provider groups)',
          response: { 200: z.array(assignment) },
        },
      },
      async () => listPeople(deps),
    );
    typed.put(
      '/api/v1/auth/people/:person',
      {
        config: { minRole: 'admin' },
        schema: {
          tags: ['auth'],
          summary: "Assigns a role (and teams) to a person: an e-mail address or the provider's subject",
          params: person,
          body: z.strictObject({
            role: z.enum(ROLES),
            teams: z.array(z.string().max(63)).max(100).default([]),
          }),
          response: { 200: assignment },
        },
      },
      async (request) =>
        assignPerson(
          deps,
          { person: request.params.person, role: request.body.role, teams: request.body.teams },
          request.principal?.name ?? 'unknown',
          actorOf(request),
        ),
    );
    typed.delete(
      '/api/v1/auth/people/:person',
      {
        config: { minRole: 'admin' },
        schema: {
          tags: ['auth'],
          summary: "Removes a person's assignment and ends their sessions (their groups count again)",
          params: person,
          response: { 200: z.object({ endedSessions: z.number().int() }) },
        },
      },
      async (request) => unassignPerson(deps, request.params.person, actorOf(request)),
    );
  };
}

export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function rethrow(error: unknown): never {
  if (error instanceof OidcError)
    throw new AppError(error.status === 400 ? 'Invalid' : 'Unavailable', error.message);
  throw error;
}

/**
 * A browser gets a page it can read (English and Japanese) when a sign-in is refused; an API
 * client or a test gets problem+json. Either way the status says what happened.
 */
async function answerBrowser(
  request: FastifyRequest,
  reply: FastifyReply,
  run: () => Promise<FastifyReply>,
): Promise<FastifyReply> {
  try {
    return await run();
  } catch (error) {
    if (!(error instanceof AppError) || !/\btext\/html\b/.test(request.headers.accept ?? '')) throw error;
    const problem = toProblem(error, { instance: request.url.split('?')[0], requestId: request.id });
    return reply
      .status(problem.status)
      .header('content-security-policy', "default-src 'none'; frame-ancestors 'none'")
      .type('text/html; charset=utf-8')
      .send(refusedPage(problem.detail ?? problem.title));
  }
}

function refusedPage(detail: string): string {
  const escaped = detail.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign-in refused — Shinrai</title></head>
<body><main><h1>Sign-in refused</h1><p lang="ja">サインインできませんでした</p>
<p>${escaped}</p>
<p><a href="/">Back to Shinrai</a> · <a href="/" lang="ja">Shinraiに戻る</a></p></main></body></html>`;
}
