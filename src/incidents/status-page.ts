/**
 * The status page (pure): from the catalog, the incidents with their timelines and daily SLI
 * counts to two closed view models — the public one (only what is marked public) and the internal
 * one (every service, every open incident, every timeline event). No I/O and no clock: callers
 * pass `nowMs` and the day windows.
 *
 * The public model is built field by field, never by spreading an incident or a service, so a
 * field added to those types cannot reach the public page by accident.
 */
import { DateTime } from 'luxon';
import { DAY_MS } from '../platform/dates.js';
import { markdownToText, renderMarkdown } from '../platform/markdown.js';
import type { Catalog, ServiceDefinition, TimeWindow, WindowCounts } from '../slo/index.js';
import { evaluationTargets } from '../slo/index.js';
import { type IncidentStatus, OPEN_STATUSES, type Severity } from './model.js';
import type { Incident, TimelineEvent } from './service.js';

/** A component's current state, worst last. */
export const COMPONENT_STATES = ['operational', 'degraded', 'partial-outage', 'major-outage'] as const;
export type ComponentState = (typeof COMPONENT_STATES)[number];

/** How one day went against the budget: `ok` within it, `down` burning it more than 10× as fast. */
export const BAR_LEVELS = ['no-data', 'ok', 'degraded', 'down'] as const;
export type BarLevel = (typeof BAR_LEVELS)[number];

/** The status words the public sees (triage reads as investigating; closed as resolved). */
export const PUBLIC_STATUSES = ['investigating', 'identified', 'monitoring', 'resolved'] as const;
export type PublicStatus = (typeof PUBLIC_STATUSES)[number];

/** A day whose bad events exceed this many times its error budget is `down` (burn rate > 10). */
export const DOWN_BURN_RATE = 10;

/** One local day of the bars: `[startMs, endMs)` in the page's time zone. */
export interface DayWindow extends TimeWindow {
  /** Local date, `yyyy-MM-dd`. */
  readonly date: string;
}

/** Summed SLI counts of one storage key over one day. */
export type DayCounts = WindowCounts;

/** One day of a component's bars. */
export interface DayBar {
  readonly date: string;
  /** Σgood / Σtotal over the component's SLIs that day; null when there were no events. */
  readonly availability: number | null;
  readonly level: BarLevel;
}

/** A public service as the public page shows it. */
export interface PublicComponent {
  readonly name: string;
  readonly state: ComponentState;
  /** Σgood / Σtotal over all the days shown; null without data. */
  readonly availability: number | null;
  readonly bars: readonly DayBar[];
}

/** A public timeline event. */
export interface PublicUpdate {
  readonly at: string;
  /** The public note rendered from its markdown and sanitised (what the page shows). */
  readonly html: string;
  /** The same note as plain text (no markup, nothing the sanitiser removed). */
  readonly text: string;
}

/** An announced incident, told with public data only. */
export interface PublicIncident {
  /** Public names of the public components it affects. */
  readonly components: readonly string[];
  readonly impact: Exclude<ComponentState, 'operational'>;
  readonly status: PublicStatus;
  /** Newest first. */
  readonly updates: readonly PublicUpdate[];
}

/** Everything the public page shows, and nothing else (also served as /status.json). */
export interface PublicStatusView {
  readonly title: string;
  readonly generatedAt: string;
  readonly timeZone: string;
  readonly overall: ComponentState;
  readonly components: readonly PublicComponent[];
  readonly incidents: readonly PublicIncident[];
}

/** Any service, with its spec name and whether it is public. */
export interface InternalComponent extends PublicComponent {
  /** The Service's name in the specs. */
  readonly service: string;
  readonly public: boolean;
}

/** Any timeline event, public or not. */
export interface InternalEvent {
  readonly at: string;
  readonly kind: string;
  readonly actor: string;
  readonly text: string;
  readonly public: boolean;
}

/** An open incident with everything staff need. */
export interface InternalIncident {
  readonly reference: string;
  readonly title: string;
  readonly severity: Severity;
  readonly status: IncidentStatus;
  readonly drill: boolean;
  readonly services: readonly string[];
  /** Newest first. */
  readonly timeline: readonly InternalEvent[];
}

/** The page for people with a viewer token: every service and every open incident. */
export interface InternalStatusView {
  readonly title: string;
  readonly generatedAt: string;
  readonly timeZone: string;
  readonly overall: ComponentState;
  readonly components: readonly InternalComponent[];
  readonly incidents: readonly InternalIncident[];
}

/** An incident and its timeline in order, as read from the database. */
export interface IncidentWithTimeline {
  readonly incident: Incident;
  readonly timeline: readonly TimelineEvent[];
}

/** What both view models are built from. */
export interface StatusPageInput {
  readonly catalog: Catalog;
  readonly incidents: readonly IncidentWithTimeline[];
  readonly days: readonly DayWindow[];
  /** Per storage key, counts per day aligned with `days` (see groupIntoDays). */
  readonly daily: ReadonlyMap<string, readonly DayCounts[]>;
  readonly nowMs: number;
  readonly title: string;
  readonly timeZone: string;
  /** Resolved incidents stay on the public page this many days. */
  readonly resolvedDays: number;
  /** Severity names, most severe first (default SEV1–SEV4). */
  readonly severities?: readonly string[] | undefined;
}

/**
 * The last `count` local days in `timeZone`, oldest first, today last (ending at `nowMs`). Luxon
 * does the calendar: a day is 23 or 25 hours across a DST change.
 */
export function dayWindows(nowMs: number, timeZone: string, count: number): DayWindow[] {
  const today = DateTime.fromMillis(nowMs, { zone: timeZone }).startOf('day');
  const out: DayWindow[] = [];
  for (let back = count - 1; back >= 0; back--) {
    const start = today.minus({ days: back });
    const endMs = back === 0 ? nowMs : start.plus({ days: 1 }).toMillis();
    out.push({ date: start.toISODate()!, startMs: start.toMillis(), endMs });
  }
  return out;
}

/** One SLI stream of a component and the strictest target it is held to. */
export interface ComponentStream {
  readonly storageKey: string;
  readonly target: number;
}

/**
 * The streams behind each service's bars, by service name: every objective (and composite part)
 * of its SLOs — for the public page only SLOs not marked `shinrai.dev/public: "false"`. A stream
 * shared by several objectives is held to the strictest. One pass over the catalog.
 */
export function componentStreams(
  catalog: Catalog,
  audience: 'public' | 'internal',
): Map<string, ComponentStream[]> {
  const byService = new Map<string, Map<string, number>>();
  for (const target of evaluationTargets(catalog)) {
    if (audience === 'public' && target.slo.shinrai.public === false) continue;
    const targets = byService.get(target.slo.service) ?? new Map<string, number>();
    byService.set(target.slo.service, targets);
    for (const part of target.parts)
      targets.set(part.storageKey, Math.max(targets.get(part.storageKey) ?? 0, part.target));
  }
  return new Map(
    [...byService].map(([service, targets]) => [
      service,
      [...targets].map(([storageKey, target]) => ({ storageKey, target })),
    ]),
  );
}

/**
 * A day's level. The SLIs of a component may have different targets (99.9% success, 99% fast),
 * so the day is judged against the budget they allow together, Σ total × (1 − target): within it
 * is `ok`, up to 10× it `degraded`, beyond `down`; no events is `no-data`.
 */
export function barLevel(good: number, total: number, allowedBad: number): BarLevel {
  if (!(total > 0)) return 'no-data';
  const bad = Math.max(0, total - good);
  // 1 − 0.9 is 0.09999999999999998 in binary: a day exactly at its budget must still be ok.
  const budget = allowedBad * (1 + 1e-9);
  if (bad <= budget) return 'ok';
  return bad > DOWN_BURN_RATE * budget ? 'down' : 'degraded';
}

function bars(
  streams: readonly ComponentStream[],
  days: readonly DayWindow[],
  daily: ReadonlyMap<string, readonly DayCounts[]>,
): { bars: DayBar[]; availability: number | null } {
  let allGood = 0;
  let allTotal = 0;
  const out = days.map((day, index) => {
    let good = 0;
    let total = 0;
    let allowedBad = 0;
    for (const stream of streams) {
      const counts = daily.get(stream.storageKey)?.[index];
      if (!counts) continue;
      good += counts.good;
      total += counts.total;
      allowedBad += counts.total * (1 - stream.target);
    }
    allGood += good;
    allTotal += total;
    return {
      date: day.date,
      availability: total > 0 ? good / total : null,
      level: barLevel(good, total, allowedBad),
    };
  });
  return { bars: out, availability: allTotal > 0 ? allGood / allTotal : null };
}

/** The default severity scale, most severe first. */
export const DEFAULT_SEVERITY_NAMES: readonly string[] = ['SEV1', 'SEV2', 'SEV3', 'SEV4'];

/**
 * By rank on the scale (most severe first), so renamed severities map too: the most severe →
 * major outage, the second → partial outage, any other (or one not on the scale) → degraded.
 * With the default scale: SEV1 → major outage, SEV2 → partial outage, SEV3 and SEV4 → degraded.
 */
export function impactOf(
  severity: string,
  scale: readonly string[] = DEFAULT_SEVERITY_NAMES,
): Exclude<ComponentState, 'operational'> {
  const rank = scale.indexOf(severity);
  if (rank === 0) return 'major-outage';
  if (rank === 1) return 'partial-outage';
  return 'degraded';
}

/** The worst of some states; operational when there are none. */
export function worstState(states: Iterable<ComponentState>): ComponentState {
  let worst = 0;
  for (const state of states) worst = Math.max(worst, COMPONENT_STATES.indexOf(state));
  return COMPONENT_STATES[worst]!;
}

/** The public word for an incident status. */
export function publicStatusOf(status: IncidentStatus): PublicStatus {
  if (status === 'triage' || status === 'investigating') return 'investigating';
  if (status === 'identified' || status === 'monitoring') return status;
  return 'resolved';
}

/** Is the service on the public page? Only an explicit `shinrai.dev/public: "true"` says so. */
export function isPublicService(service: ServiceDefinition): boolean {
  return service.shinrai?.public === true;
}

/** The name the public sees: `shinrai.dev/public-name`, else the display name, else the name. */
export function publicNameOf(service: ServiceDefinition): string {
  return service.shinrai?.publicName ?? (service.displayName?.trim() || service.name);
}

/** Services an incident affects: those it names and those owning an SLO it names. */
function affectedServices(catalog: Catalog, incident: Incident): Set<string> {
  const names = new Set(incident.services);
  for (const slo of catalog.slos) if (incident.slos.includes(slo.id)) names.add(slo.service);
  return names;
}

const isOpen = (incident: Incident) => OPEN_STATUSES.includes(incident.status);

const iso = (ms: number) => new Date(ms).toISOString();

/** An incident as the public may see it: its public services and its public timeline events. */
export interface AnnouncedIncident {
  readonly incident: Incident;
  readonly services: ServiceDefinition[];
  readonly updates: TimelineEvent[];
}

/**
 * Whether the public may hear of an incident at all (the page's rule, also used for subscriber
 * mails): not a drill, not cancelled, affecting a public service, with at least one public
 * timeline event. How long a resolved one stays on the page is the caller's concern.
 */
export function announcedIncident(
  catalog: Catalog,
  { incident, timeline }: IncidentWithTimeline,
  publicServices: readonly ServiceDefinition[] = catalog.services.filter(isPublicService),
): AnnouncedIncident | undefined {
  if (incident.drill || incident.status === 'cancelled') return undefined;
  const affected = affectedServices(catalog, incident);
  const services = publicServices.filter((s) => affected.has(s.name));
  const updates = timeline.filter((e) => e.public === true);
  if (!services.length || !updates.length) return undefined;
  return { incident, services, updates };
}

/**
 * The public page. An incident shows only when it is not a drill, not cancelled, affects a public
 * service, has at least one public timeline event, and is open or was resolved within
 * `resolvedDays`. Component states come from the open incidents shown, so every state on the page
 * is explained by an incident on it (an incident without a public update is not announced).
 */
export function buildPublicStatus(input: StatusPageInput): PublicStatusView {
  const services = input.catalog.services.filter(isPublicService);
  const resolvedSinceMs = input.nowMs - input.resolvedDays * DAY_MS;
  const shown: Array<{ incident: Incident; services: ServiceDefinition[]; updates: TimelineEvent[] }> = [];
  for (const item of input.incidents) {
    const announced = announcedIncident(input.catalog, item, services);
    if (!announced) continue;
    const { incident } = announced;
    if (!isOpen(incident)) {
      const resolvedAtMs = incident.milestones.resolvedAt ?? incident.updatedAtMs;
      if (input.resolvedDays <= 0 || resolvedAtMs < resolvedSinceMs) continue;
    }
    shown.push(announced);
  }
  const lastUpdateMs = (s: (typeof shown)[number]) => Math.max(...s.updates.map((e) => e.atMs));
  shown.sort(
    (a, b) => Number(isOpen(b.incident)) - Number(isOpen(a.incident)) || lastUpdateMs(b) - lastUpdateMs(a),
  );

  const streams = componentStreams(input.catalog, 'public');
  const components: PublicComponent[] = services.map((service) => {
    const states = shown
      .filter((s) => isOpen(s.incident) && s.services.includes(service))
      .map((s) => impactOf(s.incident.severity, input.severities));
    const figures = bars(streams.get(service.name) ?? [], input.days, input.daily);
    return {
      name: publicNameOf(service),
      state: worstState(states),
      availability: figures.availability,
      bars: figures.bars,
    };
  });

  const incidents: PublicIncident[] = shown.map((s) => ({
    components: s.services.map(publicNameOf),
    impact: impactOf(s.incident.severity, input.severities),
    status: publicStatusOf(s.incident.status),
    // Rendered here, once: the page and /status.json carry the same sanitised note, never the markdown.
    updates: [...s.updates]
      .sort((a, b) => b.atMs - a.atMs)
      .map((e) => ({ at: iso(e.atMs), html: renderMarkdown(e.text), text: markdownToText(e.text) })),
  }));

  return {
    title: input.title,
    generatedAt: iso(input.nowMs),
    timeZone: input.timeZone,
    overall: worstState(components.map((c) => c.state)),
    components,
    incidents,
  };
}

/**
 * The internal page: every service (public or not, bars from all its SLOs), and every open
 * incident — drills included and marked — with its whole timeline. States come from open
 * incidents that are not drills, announced publicly or not.
 */
export function buildInternalStatus(input: StatusPageInput): InternalStatusView {
  const open = input.incidents.filter((i) => isOpen(i.incident));
  const affected = new Map(open.map((i) => [i.incident.id, affectedServices(input.catalog, i.incident)]));
  const streams = componentStreams(input.catalog, 'internal');
  const components: InternalComponent[] = input.catalog.services.map((service) => {
    const states = open
      .filter((i) => !i.incident.drill && affected.get(i.incident.id)?.has(service.name))
      .map((i) => impactOf(i.incident.severity, input.severities));
    const figures = bars(streams.get(service.name) ?? [], input.days, input.daily);
    return {
      service: service.name,
      name: publicNameOf(service),
      public: isPublicService(service),
      state: worstState(states),
      availability: figures.availability,
      bars: figures.bars,
    };
  });
  const incidents: InternalIncident[] = [...open]
    .sort((a, b) => b.incident.number - a.incident.number)
    .map(({ incident, timeline }) => ({
      reference: incident.reference,
      title: incident.title,
      severity: incident.severity,
      status: incident.status,
      drill: incident.drill,
      services: [...affected.get(incident.id)!],
      timeline: [...timeline]
        .reverse()
        .map((e) => ({ at: iso(e.atMs), kind: e.kind, actor: e.actor, text: e.text, public: e.public })),
    }));
  return {
    title: input.title,
    generatedAt: iso(input.nowMs),
    timeZone: input.timeZone,
    overall: worstState(components.map((c) => c.state)),
    components,
    incidents,
  };
}
