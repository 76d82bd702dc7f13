/**
 * Status page reads: the incidents the page may show with their timelines, and the daily
 * good/total of the services' SLIs (read through `slo/minutes.ts`, which sums the minutes into
 * the local days Luxon cuts in the configured zone), for the view models of the pure core.
 */
import { DateTime } from 'luxon';
import type { Clock } from '../platform/clock.js';
import type { Config } from '../platform/config.js';
import { DAY_MS } from '../platform/dates.js';
import type { Db } from '../platform/db/index.js';
import type { Catalog } from '../slo/index.js';
import { readDailyCounts } from '../slo/index.js';
import { OPEN_STATUSES } from './model.js';
import type { Incident, TimelineEvent } from './service.js';
import {
  buildInternalStatus,
  buildPublicStatus,
  componentStreams,
  type DayCounts,
  type DayWindow,
  dayWindows,
  type IncidentWithTimeline,
  type InternalStatusView,
  isPublicService,
  type PublicStatusView,
  type StatusPageInput,
} from './status-page.js';

/** What the status page reads: the database, the clock, the current specs and its settings. */
export interface StatusPageDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly catalog: () => Catalog;
  readonly config: Config['statusPage'];
  /** Incident severity names, most severe first (default SEV1–SEV4). */
  readonly severities?: readonly string[] | undefined;
}

/** Values per `IN (…)` list: well under both databases' bound-parameter limits. */
const CHUNK = 500;

/** Completed days' sums are reused this long, so late data for past days shows within it. */
export const PAST_DAYS_TTL_MS = 10 * 60_000;

interface PastDays {
  readonly firstStartMs: number;
  readonly todayStartMs: number;
  readonly computedAtMs: number;
  /** Every day but today. */
  readonly days: readonly DayCounts[];
}

/**
 * The status page use cases. The sums of completed days are kept for a few minutes, so most
 * requests read only today's minutes: the page needs no token and may be asked for often, and on
 * SQLite a 90-day scan would hold the event loop on every request.
 */
export class StatusPageService {
  private readonly past = new Map<string, PastDays>();
  /** The day windows change at midnight only (Luxon's zone arithmetic is slow for 90 days). */
  private windows: { readonly todayStartMs: number; readonly days: readonly DayWindow[] } | undefined;

  constructor(private readonly deps: StatusPageDeps) {}

  /** The public page's model: public services and announced incidents only. */
  async publicStatus(): Promise<PublicStatusView> {
    const catalog = this.deps.catalog();
    const streams = componentStreams(catalog, 'public');
    const keys = catalog.services
      .filter(isPublicService)
      .flatMap((s) => (streams.get(s.name) ?? []).map((c) => c.storageKey));
    const sinceMs = this.deps.clock.now() - this.deps.config.resolvedDays * DAY_MS;
    return buildPublicStatus(await this.input(catalog, keys, sinceMs));
  }

  /** The internal page's model: every service and every open incident. */
  async internalStatus(): Promise<InternalStatusView> {
    const catalog = this.deps.catalog();
    const streams = componentStreams(catalog, 'internal');
    const keys = catalog.services.flatMap((s) => (streams.get(s.name) ?? []).map((c) => c.storageKey));
    return buildInternalStatus(await this.input(catalog, keys, undefined));
  }

  private async input(
    catalog: Catalog,
    storageKeys: readonly string[],
    resolvedSinceMs: number | undefined,
  ): Promise<StatusPageInput> {
    const nowMs = this.deps.clock.now();
    const days = this.dayWindows(nowMs);
    return {
      catalog,
      incidents: await readIncidents(this.deps.db, resolvedSinceMs),
      days,
      daily: await this.daily([...new Set(storageKeys)], days, nowMs),
      nowMs,
      title: this.deps.config.title,
      timeZone: this.deps.config.timeZone,
      resolvedDays: this.deps.config.resolvedDays,
      severities: this.deps.severities,
    };
  }

  private dayWindows(nowMs: number): DayWindow[] {
    const { timeZone, days: count } = this.deps.config;
    const todayStartMs = DateTime.fromMillis(nowMs, { zone: timeZone }).startOf('day').toMillis();
    if (this.windows?.todayStartMs !== todayStartMs)
      this.windows = { todayStartMs, days: dayWindows(nowMs, timeZone, count) };
    const days = this.windows.days;
    return [...days.slice(0, -1), { ...days.at(-1)!, endMs: nowMs }];
  }

  /** Counts per key per day: completed days from the cache while it is fresh, today always read. */
  private async daily(
    keys: readonly string[],
    days: readonly DayWindow[],
    nowMs: number,
  ): Promise<Map<string, DayCounts[]>> {
    const first = days[0];
    const today = days.at(-1);
    if (!first || !today) return new Map();
    for (const [key, entry] of this.past)
      if (nowMs - entry.computedAtMs >= PAST_DAYS_TTL_MS || nowMs < entry.computedAtMs) this.past.delete(key);
    const usable = (key: string) => {
      const entry = this.past.get(key);
      return entry?.firstStartMs === first.startMs && entry.todayStartMs === today.startMs;
    };
    const cached = keys.filter(usable);
    const uncached = keys.filter((key) => !usable(key));
    const grouped = await readDailyCounts(this.deps.db, uncached, days);
    const todays = await readDailyCounts(this.deps.db, cached, [today]);
    const out = new Map<string, DayCounts[]>();
    for (const key of uncached) {
      const series = grouped.get(key) ?? days.map(() => ({ good: 0, total: 0 }));
      this.past.set(key, {
        firstStartMs: first.startMs,
        todayStartMs: today.startMs,
        computedAtMs: nowMs,
        days: series.slice(0, -1),
      });
      out.set(key, series);
    }
    for (const key of cached) {
      const counts = todays.get(key)?.[0] ?? { good: 0, total: 0 };
      out.set(key, [...this.past.get(key)!.days, counts]);
    }
    return out;
  }
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
