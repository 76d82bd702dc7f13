/**
 * The DORA metrics of a scope (a service, a team's services, or every service) over a period of
 * calendar days in a time zone: reads the production deployments, confirmed causes and deployed
 * changes the pure core (metrics.ts) needs — only those columns, only that period — and runs it.
 */
import { sql } from 'kysely';
import { DateTime, IANAZone } from 'luxon';
import { AppError } from '../platform/errors.js';
import { benchmarkTable } from './levels.js';
import { computeDeliveryMetrics, type DeliveryMetrics } from './metrics.js';
import type { CauseLink, DeployedChange, DeploymentFact, DeploymentKind, DeploymentStatus } from './model.js';
import { confirmedCauses, type DeliveryDeps } from './service.js';
import { MAX_PERIOD_DAYS } from './weeks.js';

const DAY_MS = 86_400_000;
/** A failure near the period's end may be restored by a deployment after it: look this far ahead. */
export const RESTORE_LOOKAHEAD_DAYS = 30;
/** In-lists per query, below both databases' bound-parameter limits. */
const IN_CHUNK = 500;

export interface MetricsQuery {
  /** The services in scope; undefined: every service. */
  readonly services?: readonly string[] | undefined;
  /** First and last calendar day (YYYY-MM-DD), both inclusive, in `timeZone`. */
  readonly from: string;
  readonly to: string;
  readonly timeZone: string;
  /** A DORA report year; undefined: delivery.benchmarkYear, else the latest. */
  readonly benchmarkYear?: number | undefined;
}

/** `[fromMs, toMs)`: midnight starting `from` to midnight after `to`, in the zone (DST-aware). */
export function periodBounds(query: Pick<MetricsQuery, 'from' | 'to' | 'timeZone'>): {
  fromMs: number;
  toMs: number;
} {
  if (!IANAZone.isValidZone(query.timeZone))
    throw new AppError(
      'Invalid',
      `tz: ${JSON.stringify(query.timeZone)} is not an IANA time zone such as Asia/Tokyo`,
      [{ field: 'tz', message: 'not an IANA time zone' }],
    );
  const day = (text: string, field: string) => {
    const parsed = DateTime.fromISO(text, { zone: query.timeZone });
    if (!/^\d{4}-\d{2}-\d{2}$/.test(text) || !parsed.isValid)
      throw new AppError('Invalid', `${field}: ${JSON.stringify(text)} is not a date such as 2026-09-01`, [
        { field, message: 'not a YYYY-MM-DD date' },
      ]);
    return parsed.startOf('day');
  };
  const from = day(query.from, 'from');
  const to = day(query.to, 'to');
  if (to < from)
    throw new AppError('Invalid', 'to is before from', [{ field: 'to', message: 'before from' }]);
  const days = Math.round(to.diff(from, 'days').days) + 1;
  if (days > MAX_PERIOD_DAYS)
    throw new AppError('Invalid', `a period covers at most ${MAX_PERIOD_DAYS} days`, [
      { field: 'from', message: `more than ${MAX_PERIOD_DAYS} days before to` },
    ]);
  return { fromMs: from.toMillis(), toMs: to.plus({ days: 1 }).toMillis() };
}

/** The year asked for, checked against the tables (a clear error listing the years there are). */
function benchmarkYearOf(deps: DeliveryDeps, asked: number | undefined): number | undefined {
  const year = asked ?? (deps.settings.benchmarkYear || undefined);
  if (year === undefined) return undefined;
  const table = benchmarkTable(year);
  if (!table.ok) throw new AppError('Invalid', table.error, [{ field: 'benchmark', message: table.error }]);
  return year;
}

export async function deliveryMetrics(deps: DeliveryDeps, query: MetricsQuery): Promise<DeliveryMetrics> {
  const { fromMs, toMs } = periodBounds(query);
  const benchmarkYear = benchmarkYearOf(deps, query.benchmarkYear);
  const services = query.services === undefined ? undefined : [...new Set(query.services)];
  if (services && !services.length)
    return computeDeliveryMetrics({
      fromMs,
      toMs,
      timeZone: query.timeZone,
      deployments: [],
      causes: [],
      changes: [],
      benchmarkYear,
    });

  const deployments = await readDeployments(deps, services, fromMs, toMs + RESTORE_LOOKAHEAD_DAYS * DAY_MS);
  const inScope = new Set(deployments.map((d) => d.id));
  const causes: CauseLink[] = [];
  for (const cause of await confirmedCauses(deps)) {
    if (!inScope.has(cause.deploymentId)) continue;
    const m = cause.incident.milestones;
    const resolved = ['resolved', 'closed'].includes(cause.incident.status);
    causes.push({
      incidentId: cause.incident.id,
      deploymentId: cause.deploymentId,
      impactStartedAtMs: m.impactStartedAt ?? m.detectedAt ?? cause.incident.createdAtMs,
      ...(resolved && m.resolvedAt !== undefined ? { resolvedAtMs: m.resolvedAt } : {}),
    });
  }
  const changes = await readDeployedChanges(deps, services, fromMs, toMs);
  return computeDeliveryMetrics({
    fromMs,
    toMs,
    timeZone: query.timeZone,
    deployments,
    causes,
    changes,
    benchmarkYear,
  });
}

async function readDeployments(
  deps: DeliveryDeps,
  services: readonly string[] | undefined,
  fromMs: number,
  toMs: number,
): Promise<DeploymentFact[]> {
  // The few deployments that fix incidents, through the partial index deployments_fixing (its
  // condition written as a literal, so both databases see the query implies it); filtered by
  // scope below, through the ids of the main read.
  const fixing = new Map<string, readonly string[]>();
  const fixRows = await deps.db.kysely
    .selectFrom('deployments')
    .select(['id', 'fixes'])
    .where(sql<boolean>`fixes <> '[]'`)
    .where('finished_at', '>=', fromMs)
    .where('finished_at', '<', toMs)
    .execute();
  for (const row of fixRows) fixing.set(row.id, JSON.parse(row.fixes) as string[]);
  const out: DeploymentFact[] = [];
  for (const chunk of chunks(services)) {
    // Only columns deployments_by_service / deployments_by_time carry: no table lookups.
    let query = deps.db.kysely
      .selectFrom('deployments')
      .select(['id', 'service', 'finished_at', 'status', 'kind'])
      .where('production', '=', 1)
      .where('status', 'in', ['success', 'rolled_back'])
      .where('finished_at', '>=', fromMs)
      .where('finished_at', '<', toMs);
    if (chunk) query = query.where('service', 'in', chunk);
    for (const row of await query.execute())
      out.push({
        id: row.id,
        service: row.service,
        finishedAtMs: Number(row.finished_at),
        status: row.status as DeploymentStatus,
        kind: row.kind as DeploymentKind,
        fixes: fixing.get(row.id) ?? NO_FIXES,
      });
  }
  return out;
}

const NO_FIXES: readonly string[] = [];

async function readDeployedChanges(
  deps: DeliveryDeps,
  services: readonly string[] | undefined,
  fromMs: number,
  toMs: number,
): Promise<DeployedChange[]> {
  const out: DeployedChange[] = [];
  for (const chunk of chunks(services)) {
    let query = deps.db.kysely
      .selectFrom('changes')
      // Only columns the index carries (changes_by_first_deploy[_time]): no table lookups.
      .select(['committed_at', 'first_deployed_at'])
      .where('first_deployed_at', '>=', fromMs)
      .where('first_deployed_at', '<', toMs);
    if (chunk) query = query.where('service', 'in', chunk);
    for (const row of await query.execute())
      out.push({
        committedAtMs: Number(row.committed_at),
        firstDeployedAtMs: Number(row.first_deployed_at),
      });
  }
  return out;
}

/** The services in chunks for `IN` lists; one undefined chunk for "every service". */
function chunks(services: readonly string[] | undefined): Array<string[] | undefined> {
  if (!services) return [undefined];
  const out: string[][] = [];
  for (let i = 0; i < services.length; i += IN_CHUNK) out.push(services.slice(i, i + IN_CHUNK));
  return out;
}
