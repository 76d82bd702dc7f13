/**
 * The Delivery page's small rules (pure): periods as calendar dates in a time zone, query strings,
 * human durations, DORA level tones, budget-impact highlighting and deployment chart markers.
 */

export const LEVELS = ['elite', 'high', 'medium', 'low'] as const;
export type LevelName = (typeof LEVELS)[number];
export type Tone = 'green' | 'amber' | 'red' | 'grey';

/** Green for elite and high, amber for medium, red for low, grey when the metric has no level. */
export function levelTone(level: { name: string } | null | undefined): Tone {
  switch (level?.name) {
    case 'elite':
    case 'high':
      return 'green';
    case 'medium':
      return 'amber';
    case 'low':
      return 'red';
    default:
      return 'grey';
  }
}

/** The level names the UI translates; anything else the server answers is shown as its label. */
export function isLevelName(name: string): name is LevelName {
  return (LEVELS as readonly string[]).includes(name);
}

// ---- Durations ----

const SECOND_MS = 1000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/**
 * A duration people read at a glance, in `lang`: seconds under a minute, minutes under an hour,
 * hours under two days, days beyond ("45s", "12m", "3.5h", "2.1d"; "3.5 時間", "2.1 日" in Japanese).
 */
export function durationText(ms: number | null | undefined, lang: string): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  const abs = Math.abs(ms);
  const [value, unit, digits] =
    abs < MINUTE_MS
      ? [ms / SECOND_MS, 'second', 0]
      : abs < HOUR_MS
        ? [ms / MINUTE_MS, 'minute', 0]
        : abs < 2 * DAY_MS
          ? [ms / HOUR_MS, 'hour', 1]
          : [ms / DAY_MS, 'day', 1];
  return new Intl.NumberFormat(lang, {
    style: 'unit',
    unit,
    // English reads "3.5h"; Japanese narrow units are Latin letters too, so its short form: "3.5 時間".
    unitDisplay: lang.toLowerCase().startsWith('ja') ? 'short' : 'narrow',
    maximumFractionDigits: digits,
  }).format(value);
}

// ---- Periods: calendar dates in a time zone ----

/** A calendar date `YYYY-MM-DD`. */
export type IsoDate = string;

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

export function isIsoDate(value: string | null | undefined): value is IsoDate {
  const m = value ? DATE_RE.exec(value) : null;
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

/** True for a time zone name this browser knows (`Asia/Tokyo`, `UTC`). */
export function isTimeZone(zone: string | null | undefined): zone is string {
  if (!zone) return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The browser's time zone, or UTC when it does not say. */
export function browserTimeZone(): string {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return isTimeZone(zone) ? zone : 'UTC';
}

/** The wall-clock parts of an instant in a time zone. */
function zonedParts(atMs: number, zone: string) {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(atMs));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return {
    year: get('year'),
    month: get('month'),
    day: get('day'),
    hour: get('hour'),
    minute: get('minute'),
    second: get('second'),
  };
}

/** The calendar date of an instant in a time zone. */
export function dateIn(atMs: number, zone: string): IsoDate {
  const p = zonedParts(atMs, zone);
  return `${String(p.year).padStart(4, '0')}-${pad(p.month)}-${pad(p.day)}`;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** How far the zone's wall clock is ahead of UTC at an instant, in ms. */
function offsetMs(atMs: number, zone: string): number {
  const p = zonedParts(atMs, zone);
  const wall = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return wall - Math.floor(atMs / 1000) * 1000;
}

/**
 * The first instant of a calendar date in a time zone: its midnight, or the first instant of the
 * date when a DST change skips or repeats midnight (Santiago, Beirut).
 */
export function startOfDateMs(date: IsoDate, zone: string): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const wallMs = Date.UTC(y, m - 1, d);
  // The zone's offset the day before and the day after: midnight is at one of them.
  const candidates = [wallMs - offsetMs(wallMs - DAY_MS, zone), wallMs - offsetMs(wallMs + DAY_MS, zone)]
    .filter((c) => dateIn(c, zone) === date)
    .sort((a, b) => a - b);
  return candidates[0] ?? wallMs - offsetMs(wallMs, zone);
}

/** A calendar date plus whole days. */
export function addDays(date: IsoDate, days: number): IsoDate {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

/** A calendar date minus whole months, the day clamped to the target month's last (May 31 − 3 → Feb 28). */
export function minusMonths(date: IsoDate, months: number): IsoDate {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const firstOfTarget = new Date(Date.UTC(y, m - 1 - months, 1));
  const lastDay = new Date(
    Date.UTC(firstOfTarget.getUTCFullYear(), firstOfTarget.getUTCMonth() + 1, 0),
  ).getUTCDate();
  return new Date(Date.UTC(firstOfTarget.getUTCFullYear(), firstOfTarget.getUTCMonth(), Math.min(d, lastDay)))
    .toISOString()
    .slice(0, 10);
}

export const PERIODS = ['3m', '6m', 'custom'] as const;
export type PeriodKey = (typeof PERIODS)[number];

export interface Period {
  /** Both inclusive, calendar dates in `timeZone`. */
  from: IsoDate;
  to: IsoDate;
  timeZone: string;
}

/**
 * The period the filters describe: the last 3 or 6 months up to today in the zone (the day after
 * the same date 3 months ago through today), or the dates given (swapped when reversed). Bad or
 * missing custom dates fall back to the last 3 months.
 */
export function periodOf(
  key: PeriodKey,
  custom: { from?: string | null; to?: string | null },
  timeZone: string,
  nowMs: number,
): Period {
  const today = dateIn(nowMs, timeZone);
  if (key === 'custom' && isIsoDate(custom.from) && isIsoDate(custom.to)) {
    const [from, to] = custom.from <= custom.to ? [custom.from, custom.to] : [custom.to, custom.from];
    return { from, to, timeZone };
  }
  const months = key === '6m' ? 6 : 3;
  return { from: addDays(minusMonths(today, months), 1), to: today, timeZone };
}

/** The instants a period covers: [start of `from`, start of the day after `to`) in its zone. */
export function periodInstants(period: Period): { fromMs: number; toMs: number } {
  return {
    fromMs: startOfDateMs(period.from, period.timeZone),
    toMs: startOfDateMs(addDays(period.to, 1), period.timeZone),
  };
}

// ---- Query strings ----

export interface Scope {
  service?: string | undefined;
  team?: string | undefined;
}

function query(params: Record<string, string | number | boolean | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** `GET /api/v1/delivery/metrics` for a scope and period. */
export function metricsPath(scope: Scope, period: Period, benchmark?: number): string {
  return `/api/v1/delivery/metrics${query({
    service: scope.service,
    team: scope.team,
    from: period.from,
    to: period.to,
    tz: period.timeZone,
    benchmark,
  })}`;
}

/** `GET /api/v1/deployments` for a scope and a time range (instants), production only. */
export function deploymentsPath(
  scope: Scope,
  range: { fromMs: number; toMs: number },
  options: { burnedOver?: number | null; limit?: number; before?: string | null } = {},
): string {
  return `/api/v1/deployments${query({
    service: scope.service,
    team: scope.team,
    from: new Date(range.fromMs).toISOString(),
    to: new Date(range.toMs).toISOString(),
    production: true,
    burnedOver: options.burnedOver ?? undefined,
    limit: options.limit,
    before: options.before ?? undefined,
  })}`;
}

/**
 * A "burned more than X%" filter from the URL (`?burnedOver=0.05`): a fraction in (0, 1], else null.
 */
export function burnedOverOf(value: string | null | undefined): number | null {
  if (!value) return null;
  const n = Number(value);
  return Number.isFinite(n) && n > 0 && n <= 1 ? n : null;
}

/** What deployments are highlighted against when no filter is set: 5% of a budget. */
export const DEFAULT_BURN_THRESHOLD = 0.05;

// ---- Deployments ----

export interface BudgetSide {
  consumed: number;
  shareOfBudget: number | null;
  burnRate: number | null;
}

export interface BudgetImpact {
  slo: string;
  unit: 'events' | 'minutes';
  before: BudgetSide;
  after: BudgetSide;
  burnRateChange: number | null;
}

/** The SLOs whose budget the deployment's `after` window burned more than `threshold` of. */
export function overBudget(budget: readonly BudgetImpact[], threshold: number): string[] {
  return budget.filter((b) => (b.after.shareOfBudget ?? 0) > threshold).map((b) => b.slo);
}

/**
 * A deployment failed (in the DORA sense) when the server says so — rolled back, named by a
 * confirmed incident, or followed by a hotfix or rollback — or when it was rolled back. A failed
 * deployment job (`status: failure`) shipped nothing, so it did not fail in production.
 */
export function isFailed(d: { status: string; failed?: boolean | undefined }): boolean {
  return d.failed === true || d.status === 'rolled_back';
}

/**
 * Why a deployment counts as failed, as far as its list item tells: rolled back, a confirmed
 * incident names it, or (the server's remaining case) a hotfix or rollback followed it. Null when
 * it did not fail.
 */
export function failureReason(d: {
  status: string;
  failed?: boolean | undefined;
  causedIncidents?: readonly string[] | undefined;
}): 'rolledBack' | 'incident' | 'followedByFix' | null {
  if (!isFailed(d)) return null;
  if (d.status === 'rolled_back') return 'rolledBack';
  if ((d.causedIncidents?.length ?? 0) > 0) return 'incident';
  return 'followedByFix';
}

/** A signed number for a change: "+1.5", "−0.3", "0". */
export function signed(value: number | null | undefined, lang: string, digits = 1): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return new Intl.NumberFormat(lang, { maximumFractionDigits: digits, signDisplay: 'exceptZero' }).format(
    value,
  );
}

/**
 * A deployment as a chart marker (the shape of TimeChart's ChartMarker, declared here so this file
 * imports nothing and the browser tests can use it too).
 */
export interface DeploymentMarker {
  id: string;
  atMs: number;
  label: string;
  failed: boolean;
}

/** Chart markers for deployments: one per deployment that finished inside [fromMs, toMs]. */
export function deploymentMarkers<
  D extends { id: string; finishedAt: string; status: string; failed?: boolean | undefined },
>(
  deployments: readonly D[],
  range: { fromMs: number; toMs: number },
  label: (deployment: D, failed: boolean) => string,
): DeploymentMarker[] {
  const markers: DeploymentMarker[] = [];
  for (const d of deployments) {
    const atMs = Date.parse(d.finishedAt);
    if (!Number.isFinite(atMs) || atMs < range.fromMs || atMs > range.toMs) continue;
    const failed = isFailed(d);
    markers.push({ id: d.id, atMs, failed, label: label(d, failed) });
  }
  return markers.sort((a, b) => a.atMs - b.atMs);
}

/** A weekly series for the trend chart: week starts (ms, in the zone) and one value per week. */
export function weeklySeries<W extends { start: string }>(
  weeks: readonly W[],
  value: (week: W) => number | null,
  timeZone: string,
): { timesMs: number[]; values: (number | null)[] } {
  const timesMs: number[] = [];
  const values: (number | null)[] = [];
  for (const w of weeks) {
    if (!isIsoDate(w.start)) continue;
    timesMs.push(startOfDateMs(w.start, timeZone));
    values.push(value(w));
  }
  return { timesMs, values };
}
