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
  type ChangeColumns,
  computeDeliveryMetrics,
  computeDeliveryMetricsFromColumns,
  type DeliveryMetrics,
  type DeploymentColumns,
} from './metrics.js';
import type { CauseLink } from './model.js';
import { confirmedCauses, type DeliveryDeps } from './service.js';
import { type DaySummary, refreshSummaries, summaryCounts, unpackSummary } from './summaries.js';
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
  const { deployments, changes, place } = await readSummaries(deps, services, fromMs, toMs, lookaheadToMs);
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

/** Whether typed arrays on this machine are little-endian, as summaries are packed. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Reads the summaries of the days [fromMs, lookaheadToMs) touches into columns (one copy of each
 * section, no object per row), and a way to find the index of given deployments (their ids are
 * read only for the days that hold them).
 */
async function readSummaries(
  deps: DeliveryDeps,
  services: readonly string[] | undefined,
  fromMs: number,
  toMs: number,
  lookaheadToMs: number,
): Promise<{
  deployments: Pick<DeploymentColumns, 'groupStart' | 'finishedAtMs' | 'flags'>;
  changes: ChangeColumns;
  place: (
    rows: readonly { id: string; service: string; finished_at: number }[],
  ) => Promise<Map<string, number>>;
}> {
  const firstDay = Math.floor(fromMs / DAY_MS);
  const lastDay = Math.floor((lookaheadToMs - 1) / DAY_MS);
  const lastChangeDay = Math.floor((toMs - 1) / DAY_MS);
  const rows: { service: string; day: number; data: Uint8Array }[] = [];
  for (const chunk of chunks(services)) {
    let query = deps.db.kysely
      .selectFrom('delivery_day_summaries')
      .select(['service', 'day', 'data'])
      .where('day', '>=', firstDay)
      .where('day', '<=', lastDay);
    if (chunk) query = query.where('service', 'in', chunk);
    rows.push(...(await query.orderBy('service').orderBy('day').execute()));
  }
  let deploymentTotal = 0;
  let groupTotal = 0;
  let leadTotal = 0;
  for (const row of rows) {
    const counts = summaryCounts(row.data);
    deploymentTotal += counts.deployments;
    if (Number(row.day) > lastChangeDay) continue;
    groupTotal += counts.groups;
    leadTotal += counts.leads;
  }
  const finishedAtMs = new Float64Array(deploymentTotal);
  const flags = new Uint8Array(deploymentTotal);
  const groupAtMs = new Float64Array(groupTotal);
  const groupEnd = new Int32Array(groupTotal);
  const leadTimeMs = new Float64Array(leadTotal);
  const groupStarts: number[] = [];
  /** `service\nday` → [first index, deployments copied] of each day read. */
  const dayStart = new Map<string, [number, number]>();
  let deploymentAt = 0;
  let groupAt = 0;
  let leadAt = 0;
  let service: string | undefined;
  for (const row of rows) {
    if (row.service !== service) {
      service = row.service;
      groupStarts.push(deploymentAt);
    }
    const day = Number(row.day);
    const summary = unpack(row.data);
    // Deployments past the look-ahead are cut (they are sorted), as a read of the rows would be.
    let count = summary.finishedAtMs.length;
    while (count > 0 && summary.finishedAtMs[count - 1]! >= lookaheadToMs) count--;
    finishedAtMs.set(summary.finishedAtMs.subarray(0, count), deploymentAt);
    flags.set(summary.flags.subarray(0, count), deploymentAt);
    dayStart.set(`${row.service}\n${day}`, [deploymentAt, count]);
    deploymentAt += count;
    if (day > lastChangeDay) continue;
    groupAtMs.set(summary.groupAtMs, groupAt);
    for (const size of summary.groupSize) {
      leadAt += size;
      groupEnd[groupAt++] = leadAt;
    }
    leadTimeMs.set(summary.leadTimeMs, leadAt - summary.leadTimeMs.length);
  }
  groupStarts.push(deploymentAt);

  const place = async (wanted: readonly { id: string; service: string; finished_at: number }[]) => {
    const byService = new Map<string, Set<number>>();
    for (const row of wanted) {
      const day = Math.floor(Number(row.finished_at) / DAY_MS);
      if (!dayStart.has(`${row.service}\n${day}`)) continue;
      const days = byService.get(row.service) ?? new Set<number>();
      days.add(day);
      byService.set(row.service, days);
    }
    const indexOf = new Map<string, number>();
    for (const [name, days] of byService) {
      const list = [...days];
      for (let i = 0; i < list.length; i += IN_CHUNK) {
        const idRows = await deps.db.kysely
          .selectFrom('delivery_day_summaries')
          .select(['day', 'ids'])
          .where('service', '=', name)
          .where('day', 'in', list.slice(i, i + IN_CHUNK))
          .execute();
        for (const idRow of idRows) {
          const read = dayStart.get(`${name}\n${Number(idRow.day)}`);
          if (read === undefined) continue;
          // Only ids within what was copied (the look-ahead cut drops a day's tail).
          const ids = (JSON.parse(idRow.ids) as string[]).slice(0, read[1]);
          for (const [position, id] of ids.entries()) indexOf.set(id, read[0] + position);
        }
      }
    }
    return indexOf;
  };
  return {
    deployments: {
      groupStart: Int32Array.from(groupStarts),
      finishedAtMs: finishedAtMs.subarray(0, deploymentAt),
      flags: flags.subarray(0, deploymentAt),
    },
    changes: { groupAtMs, groupEnd, leadTimeMs },
    place,
  };
}

/** A packed summary as typed-array views: zero-copy when aligned and little-endian, else unpacked. */
function unpack(data: Uint8Array): DaySummary {
  if (!LITTLE_ENDIAN || data.byteOffset % 8 !== 0) return unpackSummary(data);
  const { deployments: d, groups: g, leads: l } = summaryCounts(data);
  let at = data.byteOffset + 16;
  const finishedAtMs = new Float64Array(data.buffer, at, d);
  at += 8 * d;
  const groupAtMs = new Float64Array(data.buffer, at, g);
  at += 8 * g;
  const leadTimeMs = new Float64Array(data.buffer, at, l);
  at += 8 * l;
  const groupSize = new Uint32Array(data.buffer, at, g);
  at += 4 * g;
  return { finishedAtMs, groupAtMs, leadTimeMs, groupSize, flags: new Uint8Array(data.buffer, at, d) };
}

/** The services in chunks for `IN` lists; one undefined chunk for "every service". */
function chunks(services: readonly string[] | undefined): Array<string[] | undefined> {
  if (!services) return [undefined];
  const out: string[][] = [];
  for (let i = 0; i < services.length; i += IN_CHUNK) out.push(services.slice(i, i + IN_CHUNK));
  return out;
}
