/**
 * The DORA metrics of a scope (a service, a team's services, or every service) over a period of
 * calendar days in a time zone: reads the production deployments, confirmed causes and deployed
 * changes the pure core (metrics.ts) needs — only those columns, only that period — and runs it.
 */
import { sql } from 'kysely';
import { DateTime, IANAZone } from 'luxon';
import { AppError } from '../platform/errors.js';
import { benchmarkTable } from './levels.js';
import {
  computeDeliveryMetrics,
  computeDeliveryMetricsFromColumns,
  type DeliveryMetrics,
} from './metrics.js';
import type { CauseLink } from './model.js';
import { confirmedCauses, type DeliveryDeps } from './service.js';
import { readSummaries, refreshSummaries } from './summaries.js';
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

  await refreshSummaries(deps.db, services);
  const lookaheadToMs = toMs + RESTORE_LOOKAHEAD_DAYS * DAY_MS;
  const { deployments, changes, place } = await readSummaries(deps.db, services, {
    fromMs,
    toMs,
    lookaheadToMs,
  });
  const scope = services ? new Set(services) : undefined;
  const wanted = (row: { service: string; production: number; status: string; finished_at: number }) =>
    Number(row.production) === 1 &&
    row.status !== 'failure' &&
    (!scope || scope.has(row.service)) &&
    Number(row.finished_at) < lookaheadToMs;

  // The few deployments that fix incidents, through the partial index deployments_fixing (its
  // condition written as a literal, so both databases see the query implies it).
  const fixRows = (
    await deps.db.kysely
      .selectFrom('deployments')
      .select(['id', 'service', 'production', 'status', 'finished_at', 'fixes'])
      .where(sql<boolean>`fixes <> '[]'`)
      .where('finished_at', '>=', fromMs)
      .where('finished_at', '<', lookaheadToMs)
      .execute()
  ).filter(wanted);
  const confirmed = await confirmedCauses(deps);
  const causeRows: {
    id: string;
    service: string;
    production: number;
    status: string;
    finished_at: number;
  }[] = [];
  const causeIds = [...new Set(confirmed.map((c) => c.deploymentId))];
  for (let i = 0; i < causeIds.length; i += IN_CHUNK)
    causeRows.push(
      ...(await deps.db.kysely
        .selectFrom('deployments')
        .select(['id', 'service', 'production', 'status', 'finished_at'])
        .where('id', 'in', causeIds.slice(i, i + IN_CHUNK))
        .execute()),
    );
  const indexOf = await place([...fixRows, ...causeRows.filter(wanted)]);
  const fixes = new Map<number, readonly string[]>();
  for (const row of fixRows) {
    const index = indexOf.get(row.id);
    if (index !== undefined) fixes.set(index, JSON.parse(row.fixes) as string[]);
  }
  const causes = new Map<number, CauseLink[]>();
  for (const cause of confirmed) {
    const index = indexOf.get(cause.deploymentId);
    if (index === undefined) continue;
    const m = cause.incident.milestones;
    const resolved = ['resolved', 'closed'].includes(cause.incident.status);
    const link: CauseLink = {
      incidentId: cause.incident.id,
      deploymentId: cause.deploymentId,
      impactStartedAtMs: m.impactStartedAt ?? m.detectedAt ?? cause.incident.createdAtMs,
      ...(resolved && m.resolvedAt !== undefined ? { resolvedAtMs: m.resolvedAt } : {}),
    };
    const list = causes.get(index);
    if (list) list.push(link);
    else causes.set(index, [link]);
  }
  return computeDeliveryMetricsFromColumns({
    fromMs,
    toMs,
    timeZone: query.timeZone,
    deployments: { ...deployments, fixes, causes },
    changes,
    benchmarkYear,
  });
}
