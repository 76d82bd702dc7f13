/** Readiness of the server's own parts for /readyz: the database answers, specs are loaded, named checks pass. */
import { type Db, ping } from './db/index.js';
import { AppError } from './errors.js';
import type { ShinraiMetrics } from './metrics.js';

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

/** /readyz's answer, or AppError Unavailable naming what is not ready. */
export async function readiness(deps: HealthDeps): Promise<Record<string, unknown>> {
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
}
