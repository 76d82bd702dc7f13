/**
 * Rate limits (adapter over @fastify/rate-limit): failed authentications per client address,
 * requests without a token per client address, and the expensive computations per caller. A
 * refused request is a 429 problem+json with Retry-After, counted in shinrai_rate_limited_total.
 */
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import { AppError } from '../errors.js';
import type { ShinraiMetrics } from '../metrics.js';

export type LimitName = 'failed_auth' | 'anonymous' | 'expensive';

/** Probes and self-metrics answer load balancers and Prometheus, which must never be throttled. */
/**
 * Anonymous requests count where they cost something: the API, the status pages and the SSO
 * endpoints (each sign-in started is a row in auth_logins until it is answered). The UI's
 * files are static and a page load asks for many, so one office behind a NAT would spend the
 * budget on scripts and icons; probes (/healthz, /readyz, /metrics) are never limited.
 */
const ANONYMOUS_LIMITED = /^\/(api\/|auth\/|status(\.json|\/|\?|$))/;

const WINDOW_MS = 60_000;

export interface RateLimits {
  /** Before a token is checked: a 429 when this client has used up its failed authentications. */
  beforeAuthentication(request: FastifyRequest, reply: FastifyReply): Promise<void>;
  /** After a token was refused: counts one failed authentication for this client. */
  authenticationFailed(request: FastifyRequest): Promise<void>;
  /** After authentication: the anonymous and the expensive-computation limits. */
  afterAuthentication(request: FastifyRequest, reply: FastifyReply): Promise<void>;
}

const NO_LIMITS: RateLimits = {
  beforeAuthentication: async () => {},
  authenticationFailed: async () => {},
  afterAuthentication: async () => {},
};

type Limiter = ReturnType<FastifyInstance['createRateLimit']>;

export async function registerRateLimits(
  app: FastifyInstance,
  config: Config['rateLimit'],
  metrics: ShinraiMetrics,
): Promise<RateLimits> {
  if (!config.enabled) return NO_LIMITS;
  // global: false — the plugin only gives us limiters; we decide which requests each one counts.
  await app.register(rateLimit, { global: false });
  const failedAuth = app.createRateLimit({ max: config.failedAuthPerMinute, timeWindow: WINDOW_MS });
  const anonymous = app.createRateLimit({ max: config.anonymousPerMinute, timeWindow: WINDOW_MS });
  const expensive = app.createRateLimit({
    max: config.expensivePerMinute,
    timeWindow: WINDOW_MS,
    // Per token where there is one, so colleagues behind one NAT address do not share a budget.
    keyGenerator: (request) =>
      request.principal ? `token:${request.principal.name}` : `address:${request.ip}`,
  });

  const refuse = (reply: FastifyReply, limit: LimitName, retryAfterSeconds: number, detail: string) => {
    metrics.rateLimited.inc({ limit });
    const seconds = Math.max(1, retryAfterSeconds);
    reply.header('retry-after', String(seconds));
    return new AppError('RateLimited', `${detail}; retry in ${seconds} s`);
  };

  const check = async (limiter: Limiter, request: FastifyRequest, increment: boolean) => {
    const state = await limiter(request, { increment });
    if (state.isAllowed) return undefined;
    return increment ? (state.isExceeded ? state : undefined) : state.remaining <= 0 ? state : undefined;
  };

  return {
    async beforeAuthentication(request, reply) {
      const spent = await check(failedAuth, request, false);
      if (spent)
        throw refuse(
          reply,
          'failed_auth',
          spent.ttlInSeconds,
          `too many failed authentications from this address (${config.failedAuthPerMinute} a minute)`,
        );
    },
    async authenticationFailed(request) {
      await failedAuth(request);
    },
    async afterAuthentication(request, reply) {
      if (!request.principal && ANONYMOUS_LIMITED.test(request.url)) {
        const over = await check(anonymous, request, true);
        if (over)
          throw refuse(
            reply,
            'anonymous',
            over.ttlInSeconds,
            `too many requests without a token from this address (${config.anonymousPerMinute} a minute); send an API token`,
          );
      }
      if (request.routeOptions.config?.expensive) {
        const over = await check(expensive, request, true);
        if (over)
          throw refuse(
            reply,
            'expensive',
            over.ttlInSeconds,
            `too many ${request.method} ${request.routeOptions.url} computations (${config.expensivePerMinute} a minute per caller)`,
          );
      }
    },
  };
}
