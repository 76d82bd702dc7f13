/**
 * Status page use cases: read the incidents the page may show with their timelines, and the
 * daily good/total of the services' SLIs from `sli_minutes`, then build the view models. The
 * database sums minutes into 15-minute buckets (one query, same SQL on both dialects); Luxon cuts
 * the buckets into local days in the configured zone.
 */
import { sql } from 'kysely';
import type { Clock } from '../platform/clock.js';
import type { Config } from '../platform/config.js';
import type { Db } from '../platform/db/database.js';
import type { Catalog } from '../slo/model.js';
import { OPEN_STATUSES } from './model.js';
import type { Incident, TimelineEvent } from './service.js';
import {
  type BucketCounts,
  bucketMsFor,
  buildInternalStatus,
  buildPublicStatus,
  componentStreams,
  type DayWindow,
  dayWindows,
  groupIntoDays,
  type IncidentWithTimeline,
  type InternalStatusView,
  isPublicService,
  type PublicStatusView,
  type StatusPageInput,
} from './status-page.js';

export interface StatusPageDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly catalog: () => Catalog;
  readonly config: Config['statusPage'];
}

const DAY_MS = 86_400_000;
/** Values per `IN (…)` list: well under both databases' bound-parameter limits. */
const CHUNK = 500;

/** The public page's model: public services and announced incidents only. */
export async function publicStatus(deps: StatusPageDeps): Promise<PublicStatusView> {
  const catalog = deps.catalog();
  const keys = catalog.services
    .filter(isPublicService)
    .flatMap((s) => componentStreams(catalog, s.name, 'public').map((c) => c.storageKey));
  const sinceMs = deps.clock.now() - deps.config.resolvedDays * DAY_MS;
  return buildPublicStatus(await input(deps, catalog, keys, sinceMs));
}

/** The internal page's model: every service and every open incident. */
export async function internalStatus(deps: StatusPageDeps): Promise<InternalStatusView> {
  const catalog = deps.catalog();
  const keys = catalog.services.flatMap((s) =>
    componentStreams(catalog, s.name, 'internal').map((c) => c.storageKey),
  );
  return buildInternalStatus(await input(deps, catalog, keys, undefined));
}

async function input(
  deps: StatusPageDeps,
  catalog: Catalog,
  storageKeys: readonly string[],
  resolvedSinceMs: number | undefined,
): Promise<StatusPageInput> {
  const nowMs = deps.clock.now();
  const days = dayWindows(nowMs, deps.config.timeZone, deps.config.days);
  const buckets = await readBuckets(deps.db, [...new Set(storageKeys)], days);
  return {
    catalog,
    incidents: await readIncidents(deps.db, resolvedSinceMs),
    days,
    daily: groupIntoDays(days, buckets),
    nowMs,
    title: deps.config.title,
    timeZone: deps.config.timeZone,
    resolvedDays: deps.config.resolvedDays,
  };
}

/** Σgood and Σtotal per storage key per bucket over the days shown. */
export async function readBuckets(
  db: Db,
  storageKeys: readonly string[],
  days: readonly DayWindow[],
): Promise<BucketCounts[]> {
  const first = days[0];
  const last = days.at(-1);
  if (!first || !last || !storageKeys.length) return [];
  const bucketMs = bucketMsFor(days);
  // Integer division on the bigint column in both dialects; the divisor is our constant, inlined.
  const bucket = sql<number>`(minute_ts / ${sql.lit(bucketMs)})`;
  const out: BucketCounts[] = [];
  for (let i = 0; i < storageKeys.length; i += CHUNK) {
    const rows = await db.kysely
      .selectFrom('sli_minutes')
      .select((eb) => [
        'sli',
        bucket.as('bucket'),
        eb.fn.sum<number>('good').as('good'),
        eb.fn.sum<number>('total').as('total'),
      ])
      .where('sli', 'in', storageKeys.slice(i, i + CHUNK))
      .where('minute_ts', '>=', first.startMs)
      .where('minute_ts', '<', last.endMs)
      .groupBy(['sli', bucket])
      .execute();
    for (const row of rows)
      out.push({
        storageKey: row.sli,
        startMs: Number(row.bucket) * bucketMs,
        good: Number(row.good),
        total: Number(row.total),
      });
  }
  return out;
}

/**
 * Open incidents, plus (when `resolvedSinceMs` is given) those changed since then — a superset of
 * the recently resolved ones, which the pure core picks by their resolution time — with timelines.
 */
async function readIncidents(db: Db, resolvedSinceMs: number | undefined): Promise<IncidentWithTimeline[]> {
  const rows = await db.kysely
    .selectFrom('incidents')
    .select('incident')
    .where((eb) =>
      resolvedSinceMs === undefined
        ? eb('status', 'in', OPEN_STATUSES)
        : eb.or([eb('status', 'in', OPEN_STATUSES), eb('updated_at', '>=', resolvedSinceMs)]),
    )
    .orderBy('number', 'desc')
    .execute();
  const incidents = rows.map((r) => JSON.parse(r.incident) as Incident);
  const timelines = new Map<string, TimelineEvent[]>(incidents.map((i) => [i.id, []]));
  const ids = [...timelines.keys()];
  for (let i = 0; i < ids.length; i += CHUNK) {
    const events = await db.kysely
      .selectFrom('incident_events')
      .select(['incident_id', 'event'])
      .where('incident_id', 'in', ids.slice(i, i + CHUNK))
      .orderBy('incident_id')
      .orderBy('seq')
      .execute();
    for (const e of events) timelines.get(e.incident_id)?.push(JSON.parse(e.event) as TimelineEvent);
  }
  return incidents.map((incident) => ({ incident, timeline: timelines.get(incident.id) ?? [] }));
}
