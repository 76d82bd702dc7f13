/**
 * The monthly report's pure core: a month's bounds in a zone, the weeks overlapping it, which
 * services and SLOs a product names, the policy step a remaining budget reached, and the small
 * sums (action items by priority, alerts per week, noisy rules) — no I/O, no clock.
 */
import { DateTime, IANAZone } from 'luxon';
import type { PolicyStep } from '../slo/index.js';

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;

export type Parsed<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: string };

/** `[fromMs, toMs)`: the month's first local midnight to the next month's, in the zone (DST-aware). */
export function monthBounds(month: string, timeZone: string): Parsed<{ fromMs: number; toMs: number }> {
  if (!IANAZone.isValidZone(timeZone))
    return { ok: false, error: `${JSON.stringify(timeZone)} is not an IANA time zone such as Asia/Tokyo` };
  const match = MONTH.exec(month);
  if (!match) return { ok: false, error: `${JSON.stringify(month)} is not a month such as 2026-11` };
  const start = DateTime.fromObject(
    { year: Number(match[1]), month: Number(match[2]), day: 1 },
    { zone: timeZone },
  );
  if (!start.isValid) return { ok: false, error: `${JSON.stringify(month)} is not a month such as 2026-11` };
  return { ok: true, value: { fromMs: start.toMillis(), toMs: start.plus({ months: 1 }).toMillis() } };
}

/** The `count` months ending with `month` (oldest first), as `YYYY-MM`. */
export function monthsEndingWith(month: string, count: number): string[] {
  const [year, m] = month.split('-').map(Number) as [number, number];
  const out: string[] = [];
  for (let i = count - 1; i >= 0; i--) {
    const d = DateTime.utc(year, m, 1).minus({ months: i });
    out.push(d.toFormat('yyyy-MM'));
  }
  return out;
}

/** The month containing an instant, in the zone. */
export function monthOf(atMs: number, timeZone: string): string {
  return DateTime.fromMillis(atMs, { zone: timeZone }).toFormat('yyyy-MM');
}

/** The month's first day at local midnight as calendar-window wall time (`yyyy-MM-dd HH:mm:ss`). */
export function monthStartWallTime(month: string): string {
  return `${month}-01 00:00:00`;
}

/** The weeks (Monday start, local midnight) overlapping `[fromMs, toMs)`: their Monday and bounds. */
export function weeksOverlapping(
  fromMs: number,
  toMs: number,
  timeZone: string,
): Array<{ start: string; startMs: number; endMs: number }> {
  const weeks: Array<{ start: string; startMs: number; endMs: number }> = [];
  let monday = DateTime.fromMillis(fromMs, { zone: timeZone }).startOf('day');
  monday = monday.minus({ days: monday.weekday - 1 });
  while (monday.toMillis() < toMs) {
    const next = monday.plus({ weeks: 1 });
    weeks.push({ start: monday.toFormat('yyyy-MM-dd'), startMs: monday.toMillis(), endMs: next.toMillis() });
    monday = next;
  }
  return weeks;
}

/** The local calendar date (`YYYY-MM-DD`) of an instant. */
export function localDate(atMs: number, timeZone: string): string {
  return DateTime.fromMillis(atMs, { zone: timeZone }).toFormat('yyyy-MM-dd');
}

/** What the product selector looks at in one SLO. */
export interface ProductSlo {
  readonly id: string;
  readonly service: string;
  readonly owner?: string | undefined;
  readonly journey?: string | undefined;
  readonly labels: Readonly<Record<string, readonly string[]>>;
}

/** What the selector looks at in one Service object of the specs. */
export interface ProductService {
  readonly name: string;
  readonly owner?: string | undefined;
  readonly journey?: string | undefined;
  readonly labels: Readonly<Record<string, readonly string[]>>;
}

export type ProductMatch =
  | { readonly ok: true; readonly services: readonly string[] }
  | { readonly ok: false; readonly candidates: readonly string[] };

/**
 * The services a product names: a service (an SLO's `service`, or a Service object), or every
 * service with an SLO or Service object whose `owner`, `journey` or label matches (`owner:<team>`,
 * `journey:<j>`, `label:<k>=<v>`). Sorted; on no match, the names that would have matched.
 */
export function productServices(
  product: string,
  slos: readonly ProductSlo[],
  services: readonly ProductService[],
): ProductMatch {
  const objects: ReadonlyArray<{
    service: string;
    owner?: string | undefined;
    journey?: string | undefined;
    labels: Readonly<Record<string, readonly string[]>>;
  }> = [...slos, ...services.map((s) => ({ ...s, service: s.name }))];
  let test: (o: (typeof objects)[number]) => boolean;
  if (product.startsWith('owner:')) {
    const team = product.slice('owner:'.length);
    test = (o) => o.owner === team;
  } else if (product.startsWith('journey:')) {
    const journey = product.slice('journey:'.length);
    test = (o) => o.journey === journey;
  } else if (product.startsWith('label:')) {
    const [key, ...rest] = product.slice('label:'.length).split('=');
    const value = rest.join('=');
    test = (o) => key !== undefined && rest.length > 0 && (o.labels[key] ?? []).includes(value);
  } else test = (o) => o.service === product;
  const matched = [...new Set(objects.filter(test).map((o) => o.service))].sort();
  if (matched.length) return { ok: true, services: matched };
  const candidates = new Set<string>();
  for (const o of objects) {
    candidates.add(o.service);
    if (o.owner) candidates.add(`owner:${o.owner}`);
    if (o.journey) candidates.add(`journey:${o.journey}`);
    for (const [k, values] of Object.entries(o.labels))
      for (const v of values) candidates.add(`label:${k}=${v}`);
  }
  return { ok: false, candidates: [...candidates].sort() };
}

/**
 * The deepest error-budget policy step the remaining share reached: among the steps whose
 * `below` the remaining share is at or under (the gate's rule), the one with the lowest `below`.
 */
export function deepestPolicyStep(steps: readonly PolicyStep[], remaining: number): PolicyStep | undefined {
  let deepest: PolicyStep | undefined;
  for (const step of steps)
    if (remaining <= step.below && (deepest === undefined || step.below < deepest.below)) deepest = step;
  return deepest;
}

/** Counts per key (e.g. per priority), keys in sorted order. */
export function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return Object.fromEntries([...counts.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

/** One alert firing as the report counts it. */
export interface MonthFiring {
  readonly slo: string;
  readonly rule: string;
  readonly tier: string;
  readonly firedAtMs: number;
  readonly verdict?: 'actionable' | 'noise' | undefined;
}

/** Pages and tickets per week: firings whose start lies in the week (and in the month). */
export function alertsPerWeek(
  firings: readonly MonthFiring[],
  weeks: ReadonlyArray<{ start: string; startMs: number; endMs: number }>,
): Array<{ start: string; pages: number; tickets: number }> {
  return weeks.map((w) => {
    const inWeek = firings.filter((f) => f.firedAtMs >= w.startMs && f.firedAtMs < w.endMs);
    return {
      start: w.start,
      pages: inWeek.filter((f) => f.tier === 'page').length,
      tickets: inWeek.filter((f) => f.tier === 'ticket').length,
    };
  });
}

/** Share of the judged firings marked noise; null when none was judged. */
export function noiseShareOf(firings: readonly MonthFiring[]): number | null {
  const judged = firings.filter((f) => f.verdict);
  return judged.length ? judged.filter((f) => f.verdict === 'noise').length / judged.length : null;
}

/** Noise above this share of a rule's judged firings makes it noisy… */
export const NOISY_SHARE = 0.5;
/** …once at least this many of its firings were judged. */
export const NOISY_MIN_FEEDBACK = 2;

/** Rules whose judged firings were mostly noise (share > 0.5, at least 2 judged), by SLO then rule. */
export function noisyRules(
  firings: readonly MonthFiring[],
): Array<{ slo: string; rule: string; noiseShare: number }> {
  const groups = new Map<string, MonthFiring[]>();
  for (const f of firings) {
    const key = `${f.slo}\u0000${f.rule}`;
    groups.set(key, [...(groups.get(key) ?? []), f]);
  }
  const out: Array<{ slo: string; rule: string; noiseShare: number }> = [];
  for (const list of groups.values()) {
    const judged = list.filter((f) => f.verdict).length;
    const share = noiseShareOf(list);
    if (judged >= NOISY_MIN_FEEDBACK && share !== null && share > NOISY_SHARE)
      out.push({ slo: list[0]!.slo, rule: list[0]!.rule, noiseShare: share });
  }
  return out.sort((a, b) => a.slo.localeCompare(b.slo) || a.rule.localeCompare(b.rule));
}
