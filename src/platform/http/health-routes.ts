/** Liveness, readiness and Shinrai's own metrics; no token needed (put them behind your network). */
import { type Db, ping } from '../db/index.js';
import { AppError } from '../errors.js';
import type { ShinraiMetrics } from '../metrics.js';
import type { App } from './server.js';

export interface HealthDeps {
  readonly db: Db;
  readonly metrics: ShinraiMetrics;
  /** True once specs are loaded. */
  readonly specsReady: () => boolean;
  /** Extra readiness facts shown on /readyz (e.g. leader status). */
  readonly details?: () => Record<string, unknown>;
  /**
   * More readiness checks by name (e.g. `evaluation`), each shown on /readyz; one that is not
   * ready makes /readyz answer 503 with its reason.
   */
  readonly checks?: () => Promise<Readonly<Record<string, ReadinessCheck>>>;
}

/** One readiness check's answer: `reason` says why when not ready; the rest is shown as is. */
export interface ReadinessCheck {
  readonly ready: boolean;
  readonly reason?: string | undefined;
  readonly [fact: string]: unknown;
}

export function healthRoutes(deps: HealthDeps) {
  return (app: App) => {
    app.get('/healthz', { config: { minRole: 'public' }, schema: { hide: true } }, async () => ({
      status: 'ok',
    }));

    app.get('/readyz', { config: { minRole: 'public' }, schema: { hide: true } }, async () => {
      try {
        await ping(deps.db);
      } catch (error) {
        throw new AppError('Unavailable', `database unreachable: ${(error as Error).message}`);
      }
      if (!deps.specsReady()) throw new AppError('Unavailable', 'specs are not loaded yet');
      const checks = (await deps.checks?.()) ?? {};
      const failed = Object.entries(checks).filter(([, check]) => !check.ready);
      if (failed.length)
        throw new AppError(
          'Unavailable',
          `not ready: ${failed.map(([name, check]) => `${name}: ${check.reason ?? 'not ready'}`).join('; ')}`,
        );
      return { status: 'ready', database: deps.db.dialect, ...deps.details?.(), ...checks };
    });

    app.get(
      '/metrics',
      { config: { minRole: 'public' }, schema: { hide: true } },
      async (_request, reply) => {
        reply.type(deps.metrics.registry.contentType);
        return deps.metrics.registry.metrics();
      },
    );
  };
}
