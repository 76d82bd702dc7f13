/** Liveness, readiness and Shinrai's own metrics; no token needed (put them behind your network). */
import { type HealthDeps, readiness } from '../readiness.js';
import type { App } from './server.js';

export type { HealthDeps, ReadinessCheck } from '../readiness.js';

export function healthRoutes(deps: HealthDeps) {
  return (app: App) => {
    app.get('/healthz', { config: { minRole: 'public' }, schema: { hide: true } }, async () => ({
      status: 'ok',
    }));

    app.get('/readyz', { config: { minRole: 'public' }, schema: { hide: true } }, async () =>
      readiness(deps),
    );

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
