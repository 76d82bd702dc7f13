/**
 * The HTTP server: Fastify with zod schemas (validation, serialisation and the OpenAPI document
 * from the same definitions), token auth by role, and every error as application/problem+json.
 */
import { createHash, randomUUID } from 'node:crypto';
import compress from '@fastify/compress';
import swagger from '@fastify/swagger';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import {
  type AuthDeps,
  canWrite,
  csrfMatches,
  csrfTokenFor,
  OidcClient,
  type Owners,
  type Principal,
  parseCookies,
  type ReadScope,
  type Role,
  readScopeOf,
  roleAllows,
  teamsOwning,
  verifySession,
  verifyToken,
} from '../auth/index.js';
import type { Config } from '../config.js';
import { DATABASE_RETRY_AFTER_SECONDS, isDatabaseUnreachable } from '../db-unreachable.js';
import { Egress, parseEgressAllow } from '../egress.js';
import { AppError, type ProblemDetail } from '../errors.js';
import type { ShinraiMetrics } from '../metrics.js';
import { authRoutes, CSRF_HEADER, headerValue, peopleRoutes } from './auth-routes.js';
import { acceptEmptyBodies, markOptionalBodies } from './empty-body.js';
import {
  clientErrorHandler,
  MAX_PARAM_CHARS,
  MAX_URL_CHARS,
  RouteMethods,
  routerError,
} from './framework-errors.js';
import { urlHasNul } from './nul-text.js';
import { codeForStatus, PROBLEM_CONTENT_TYPE, toProblem } from './problem.js';
import { registerRateLimits } from './rate-limits.js';
import { teamRoutes } from './team-routes.js';
import { tokenRoutes } from './token-routes.js';
import { whoamiRoutes } from './whoami-routes.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Least role a caller needs; default viewer for GET/HEAD, editor otherwise; 'public' for none. */
    minRole?: Role | 'public';
    /** A costly computation (calculator, backtest, preview): counted by `rateLimit.expensivePerMinute`. */
    expensive?: boolean;
    /**
     * Called before the credential is checked, to start a read the answer will need (e.g. the
     * SLO list's version) in parallel with the token lookup. It must not reveal anything: an
     * unauthenticated request still gets its 401 and nothing else.
     */
    beforeAuthentication?: (request: FastifyRequest) => void;
  }
  interface FastifyRequest {
    principal?: Principal;
    /**
     * With `auth.teamScopedReads`, what a principal with teams (not an admin) may read; absent: it
     * reads everything. Routes whose answer is not filtered by the server (docs/api.md#teams) use it.
     */
    readScope?: ReadScope;
    /** The teams owning what this write touches (team-scoped write routes), for its audit event. */
    auditTeams?: readonly string[];
    /** The CSRF token of the session the request came with (whoami hands it to the page). */
    csrfToken?: string;
    /**
     * For a team-scoped editor: throws 403 unless it may change these services (docs/api.md#teams).
     * For a route that learns what it touches only from its body's content (OTLP); undefined when
     * the caller may change everything.
     */
    assertMayWrite?: (services: readonly string[]) => void;
  }
}

export type App = FastifyInstance;

/** The server's needs; the database and clock go to the token and session checks (platform/auth). */
export interface HttpDeps extends AuthDeps {
  readonly config: Config;
  readonly log: Logger;
  readonly metrics: ShinraiMetrics;
  /** The egress policy for calls to the OpenID provider; default: one built from egress.allow. */
  readonly egress?: Egress;
  /** Team-scoped writes (docs/api.md#teams): absent, an editor may change everything. */
  readonly teamWrites?: TeamWrites;
  /** Team-scoped reads (`auth.teamScopedReads`): absent, every reader sees everything. */
  readonly teamReads?: TeamReads;
}

/**
 * What team-scoped reads need from the capabilities above the platform, per read route: the
 * services one record touches (a record another team owns answers 404, as a missing one would),
 * and the filter of a list (only the records the scope sees).
 */
export interface TeamReads {
  owners(): Owners;
  /**
   * For a route about one record: the services it touches and the route's own 404 message, which
   * an unseen record answers too (it must not differ from a missing one). Undefined: not such a
   * route, or the record is missing (the route answers 404 itself).
   */
  record(request: FastifyRequest): Promise<{ services: readonly string[]; notFound: string } | undefined>;
  /** For a list route: a filter of its answer (the object, before serialisation); else undefined. */
  list(request: FastifyRequest): ((payload: unknown, scope: ReadScope) => Promise<unknown>) | undefined;
}

/**
 * What the team check needs from the capabilities above the platform: the services a write
 * touches (undefined for a route that is not about team-owned things) and who owns each service.
 */
export interface TeamWrites {
  /**
   * The services a write touches; undefined for a route about no team's records. With `auditOnly`
   * (the caller may change everything, only the audit event's teams are wanted) a route whose
   * answer costs too much on the event loop (parsing a spec upload) answers undefined too.
   */
  touched(request: FastifyRequest, options?: { auditOnly?: boolean }): Promise<readonly string[] | undefined>;
  owners(): Owners;
  /** The services and SLOs another team owns that this principal may not change (for the UI). */
  readOnly(principal: Principal): { services: string[]; slos: string[] };
}

/** A capability's routes; registered inside the server so they share auth and error handling. */
export type RouteModule = (app: App) => void | Promise<void>;

export const API_VERSION = '0.1.0';

export async function buildServer(deps: HttpDeps, modules: readonly RouteModule[]): Promise<App> {
  const countAnswer = (route: string, status: number) =>
    deps.metrics.httpRequests.inc({ route, status: String(status) });
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    bodyLimit: deps.config.server.bodyLimitBytes,
    genReqId: () => randomUUID(),
    routerOptions: { maxParamLength: MAX_PARAM_CHARS },
    trustProxy: deps.config.server.trustProxy.length ? [...deps.config.server.trustProxy] : false,
    // Per-request info logs would dominate at ingestion rates; errors are logged by the handler.
    logController: new LogController({ disableRequestLogging: true }),
    // Every error leaves as problem+json: Fastify's own router errors, Node's parser errors, and
    // the 503 while closing (answered by the onRequest hook below instead of Fastify's JSON).
    frameworkErrors: (error, request, reply) => {
      const problem = toProblem(routerError(error), { requestId: request.id });
      // The router hands a reply typed for no route; it is an ordinary reply.
      return (reply as unknown as FastifyReply)
        .status(problem.status)
        .type(PROBLEM_CONTENT_TYPE)
        .send(problem);
    },
    clientErrorHandler: clientErrorHandler((status) => countAnswer('client-error', status)),
    return503OnClosing: false,
    // Fastify's 10 s default counts event-loop time the plugins do not use. Long SQLite work yields
    // between its parts (yieldToEventLoop), but on a loaded 2-core box the demo's seeding and the
    // first tick still took the loop past 10 s and `npm start` exited with "Plugin did not start
    // in time". Our plugins start in milliseconds; a real hang still fails, after 2 minutes.
    pluginTimeout: 120_000,
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  acceptEmptyBodies(app);

  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  const routeMethods = new RouteMethods();
  app.addHook('onRoute', (route) => routeMethods.add(route.url, route.method));
  const limits = await registerRateLimits(app, deps.config.rateLimit, deps.metrics);

  // 30 days of history are 2.5 MB of JSON and the UI's bundle is plain text: compressed, they cross
  // a VPN or a slow office link in a fraction of the bytes. gzip at level 1: for that JSON it
  // takes half the CPU of the default level 6 (25 vs 52 ms) for nearly the same size.
  await app.register(compress, {
    global: true,
    threshold: 1024,
    encodings: ['gzip', 'br', 'deflate'],
    zlibOptions: { level: 1 },
  });

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Shinrai API',
        description: 'SLOs as code, error budgets and burn rates. Errors are application/problem+json.',
        version: API_VERSION,
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
    transformObject: (document) =>
      markOptionalBodies('openapiObject' in document ? document.openapiObject : document.swaggerObject),
  });

  app.addHook('onRequest', async (request, reply) => {
    if (closing) {
      reply.header('connection', 'close');
      throw new AppError('Unavailable', 'the server is shutting down; retry on another replica');
    }
    if (request.url.length > MAX_URL_CHARS)
      throw new AppError('UriTooLong', `the URL is longer than ${MAX_URL_CHARS} characters`);
    if (urlHasNul(request.url))
      throw new AppError(
        'Invalid',
        'the URL holds %00 (the NUL character), which no name or value may contain',
      );
    request.routeOptions.config?.beforeAuthentication?.(request);
    await authenticate(request, reply);
    await limits.afterAuthentication(request, reply);
  });

  // After the body is parsed: the teams owning what a write touches go to its audit event, and a
  // team-scoped editor may change only its teams' services (viewers were refused by the role
  // check already).
  const teamWrites = deps.teamWrites;
  if (teamWrites)
    app.addHook('preHandler', async (request) => {
      if (request.method === 'GET' || request.method === 'HEAD' || request.method === 'OPTIONS') return;
      const principal = request.principal;
      const scoped = principal?.teams?.length && principal.role === 'editor' ? principal : undefined;
      const assertMayWrite = (services: readonly string[]) => {
        if (!scoped) return;
        const decision = canWrite(scoped, services, teamWrites.owners());
        if (!decision.ok) throw new AppError('Forbidden', decision.error);
      };
      // Routes that learn what they touch only from the body's content (OTLP) ask for themselves.
      if (scoped) request.assertMayWrite = assertMayWrite;
      const services = await teamWrites.touched(request, { auditOnly: !scoped });
      if (services === undefined) return;
      request.auditTeams = teamsOwning(services, teamWrites.owners());
      assertMayWrite(services);
    });

  // auth.teamScopedReads: a principal with teams reads its teams' records and what nobody owns.
  const teamReads = deps.config.auth.teamScopedReads ? deps.teamReads : undefined;
  if (teamReads) {
    const filtered = new WeakSet<FastifyRequest>();
    app.addHook('preHandler', async (request) => {
      request.readScope = readScopeOf(request.principal, teamReads.owners());
      if (!request.readScope) return;
      const record = await teamReads.record(request);
      if (record && !request.readScope.sees(record.services)) throw new AppError('NotFound', record.notFound);
    });
    app.addHook('preSerialization', async (request, reply, payload) => {
      const filter = request.readScope && reply.statusCode === 200 ? teamReads.list(request) : undefined;
      if (!filter || !request.readScope) return payload;
      filtered.add(request);
      return filter(payload, request.readScope);
    });
    // A list route that sent bytes skipped the filter: refuse rather than show every team's records.
    app.addHook('onSend', async (request, reply, payload) => {
      if (request.readScope && reply.statusCode === 200 && teamReads.list(request) && !filtered.has(request))
        throw new AppError(
          'Internal',
          `${request.routeOptions.url} sent an answer team-scoped reads did not filter`,
        );
      return payload;
    });
  }

  // Single sign-on (auth.oidc): the provider's client and the session cookie the hook reads.
  const oidcSettings = deps.config.auth.oidc;
  const sessionDeps = { db: deps.db, clock: deps.clock, sessions: deps.config.auth.sessions };
  const cookieName = deps.config.auth.sessions.cookieName;
  let oidc: OidcClient | undefined;
  if (oidcSettings) {
    const allowed = parseEgressAllow(deps.config.egress.allow);
    if (!allowed.ok) throw new Error(`egress.allow: ${allowed.problems.join('; ')}`);
    const egress =
      deps.egress ??
      new Egress(allowed.policy, { onRefused: (client) => deps.metrics.egressRefused.inc({ client }) });
    const client = new OidcClient(oidcSettings, egress.agent('oidc'), ['email', oidcSettings.groupsClaim]);
    oidc = client;
    app.addHook('onClose', () => client.close());
  }

  const authenticate = async (request: FastifyRequest, reply: FastifyReply) => {
    const needed = neededRole(request);
    if (needed === 'public') return;
    const header = request.headers.authorization;
    if (header === undefined) {
      const session = oidc ? parseCookies(request.headers.cookie).get(cookieName) : undefined;
      if (session !== undefined) return authenticateSession(request, reply, needed, session);
      if (needed === 'viewer' && deps.config.auth.anonymousRead) return;
      throw new AppError(
        'Unauthorized',
        oidc
          ? 'sign in (GET /auth/login in a browser) or send an API token: Authorization: Bearer <token>'
          : 'send an API token: Authorization: Bearer <token> (create one with `shinrai token create`)',
      );
    }
    // A client that keeps guessing tokens is refused before its next guess is even checked.
    await limits.beforeAuthentication(request, reply);
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const principal = match ? await verifyToken(deps, match[1]!) : undefined;
    if (!principal) {
      await limits.authenticationFailed(request);
      throw new AppError(
        'Unauthorized',
        match ? 'the API token is unknown or revoked' : 'the Authorization header must be "Bearer <token>"',
      );
    }
    if (!roleAllows(principal.role, needed))
      throw new AppError(
        'Forbidden',
        `this needs the ${needed} role; token "${principal.name}" is ${principal.role}`,
      );
    request.principal = principal;
  };

  /**
   * A browser's session cookie (SSO). A write with it also needs the session's CSRF token in
   * X-CSRF-Token: the cookie is sent by the browser whoever made the page, the header only by
   * this origin's page, which whoami told the token. Bearer requests need none (no ambient credential).
   */
  const authenticateSession = async (
    request: FastifyRequest,
    reply: FastifyReply,
    needed: Role,
    secret: string,
  ) => {
    await limits.beforeAuthentication(request, reply);
    const verified = await verifySession(sessionDeps, secret);
    if (!verified.ok) {
      // An ended session where reads are open still reads, as anyone may.
      if (needed === 'viewer' && deps.config.auth.anonymousRead) return;
      await limits.authenticationFailed(request);
      throw new AppError('Unauthorized', verified.error);
    }
    const principal = verified.principal;
    const safe = request.method === 'GET' || request.method === 'HEAD' || request.method === 'OPTIONS';
    if (!safe && !csrfMatches(secret, headerValue(request.headers[CSRF_HEADER])))
      throw new AppError(
        'Forbidden',
        request.headers[CSRF_HEADER] === undefined
          ? 'a write with the session cookie needs the X-CSRF-Token header (GET /api/v1/whoami gives the token)'
          : "the X-CSRF-Token header does not match this session's token (GET /api/v1/whoami gives it)",
      );
    if (!roleAllows(principal.role, needed))
      throw new AppError(
        'Forbidden',
        `this needs the ${needed} role; ${principal.name} is ${principal.role} (from the OpenID provider's groups, or as an admin assigned)`,
      );
    request.principal = principal;
    request.csrfToken = csrfTokenFor(secret);
  };

  // API answers are data: a browser must never sniff them into HTML, nor load anything for them.
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-content-type-options', 'nosniff');
    if (request.url.startsWith('/api/'))
      reply.header('content-security-policy', "default-src 'none'; frame-ancestors 'none'");
  });

  // Every other JSON read gets a validator too (docs/api.md#caching): a client that sends back the
  // ETag gets 304 without the body when the answer is unchanged. Weak, because @fastify/compress
  // encodes the body after this hook; the answer is still built per request.
  app.addHook('onSend', async (request, reply, payload) => {
    if (
      (request.method !== 'GET' && request.method !== 'HEAD') ||
      reply.statusCode !== 200 ||
      typeof payload !== 'string' ||
      reply.hasHeader('etag') ||
      !request.url.startsWith('/api/') ||
      !String(reply.getHeader('content-type') ?? '').startsWith('application/json')
    )
      return payload;
    // A route that chose its own caching keeps it; one that forbids storing gets no validator.
    const cacheControl = reply.getHeader('cache-control');
    if (cacheControl !== undefined && /no-store/i.test(String(cacheControl))) return payload;
    const etag = weakEtag(payload);
    reply.header('etag', etag);
    if (cacheControl === undefined) reply.header('cache-control', 'private, no-cache');
    if (!etagMatches(request.headers['if-none-match'], etag)) return payload;
    reply.code(304);
    return '';
  });

  app.addHook('onResponse', async (request, reply) => {
    countAnswer(request.routeOptions.url ?? 'unmatched', reply.statusCode);
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    const allowed = routeMethods.allowed(path);
    // The router skips a route whose parameter is longer than it accepts: say so instead of 404.
    // A closing router finds no route at all: that is a shutdown, not a missing page.
    const error = closing
      ? new AppError('Unavailable', 'the server is shutting down; retry on another replica')
      : path.split('/').some((segment) => segment.length > MAX_PARAM_CHARS)
        ? new AppError('UriTooLong', `a path segment is longer than ${MAX_PARAM_CHARS} characters`)
        : allowed.length && !allowed.includes(request.method)
          ? new AppError('MethodNotAllowed', `${path} answers ${allowed.join(', ')}, not ${request.method}`)
          : new AppError('NotFound', `no route for ${request.method} ${path}`);
    if (error.code === 'MethodNotAllowed') reply.header('allow', allowed.join(', '));
    if (closing) reply.header('connection', 'close');
    const problem = toProblem(error, { instance: request.url, requestId: request.id });
    return reply.status(problem.status).type(PROBLEM_CONTENT_TYPE).send(problem);
  });

  app.setErrorHandler((error: FastifyError | AppError | Error, request, reply) => {
    const appError = asAppError(error);
    // "Not now", not "wrong": clients retry a 503 after the wait; a 500 is often dropped.
    if (appError.code === 'Unavailable') reply.header('retry-after', String(DATABASE_RETRY_AFTER_SECONDS));
    if (appError.code === 'Internal')
      request.log.error(
        { err: error, requestId: request.id, route: request.routeOptions.url },
        'request failed',
      );
    const problem = toProblem(appError, { instance: request.url, requestId: request.id });
    return reply.status(problem.status).type(PROBLEM_CONTENT_TYPE).send(problem);
  });

  app.get('/api/openapi.json', { config: { minRole: 'public' }, schema: { hide: true } }, async () =>
    app.swagger(),
  );
  // Who the caller is, on every server: the web UI hides what a viewer may not do.
  whoamiRoutes(deps.teamWrites)(app);
  authRoutes({
    ...sessionDeps,
    oidc,
    mapping: oidcSettings,
    redirectUrl: oidcSettings?.redirectUrl ?? '',
    cookie: { name: cookieName, secure: deps.config.auth.sessions.secureCookie },
  })(app);
  if (oidc) peopleRoutes(sessionDeps)(app);
  // Admins manage tokens and see the teams on the Admin page of the web UI.
  tokenRoutes(deps)(app);
  teamRoutes(deps.config.teams, deps.teamWrites)(app);

  for (const register of modules) await register(app);
  await app.ready();
  return app;
}

/** A weak ETag of a JSON body: equal for equal bodies, on every replica. */
function weakEtag(body: string): string {
  return `W/"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`;
}

/** Weak comparison (RFC 9110 §13.1.2), as If-None-Match asks for. */
function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  const opaque = etag.replace(/^W\//, '');
  return ifNoneMatch.split(',').some((raw) => {
    const tag = raw.trim().replace(/^W\//, '');
    return tag === '*' || tag === opaque;
  });
}

function neededRole(request: FastifyRequest): Role | 'public' {
  const configured = request.routeOptions.config?.minRole;
  if (configured) return configured;
  // Unmatched routes answer 404 without asking for a token first.
  if (!request.routeOptions.url) return 'public';
  return request.method === 'GET' || request.method === 'HEAD' ? 'viewer' : 'editor';
}

/** Every error leaves as one of our codes; anything unexpected becomes Internal (500). */
function asAppError(error: FastifyError | AppError | Error): AppError {
  if (error instanceof AppError) return error;
  // The driver's message can name the database host: it stays in the log, out of the answer.
  if (isDatabaseUnreachable(error))
    return new AppError('Unavailable', 'the database is unreachable; retry shortly');
  const fastifyError = error as FastifyError & {
    validation?: Array<{ instancePath?: string; message?: string }>;
  };
  if (fastifyError.validation) {
    const errors: ProblemDetail[] = fastifyError.validation.map((v) => ({
      field: v.instancePath?.replace(/^\//, '').replaceAll('/', '.') || undefined,
      message: v.message ?? 'invalid',
    }));
    return new AppError(
      'Invalid',
      `invalid ${fastifyError.validationContext ?? 'request'}: ${errors.map((e) => (e.field ? `${e.field}: ${e.message}` : e.message)).join('; ')}`,
      errors,
    );
  }
  const status = fastifyError.statusCode;
  if (status !== undefined && status >= 400 && status < 500)
    return new AppError(codeForStatus(status), error.message);
  if (status === 503) return new AppError('Unavailable', error.message);
  return new AppError(
    'Internal',
    'an unexpected error occurred; the request id identifies it in the server log',
  );
}
