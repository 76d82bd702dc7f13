/**
 * DORA delivery metrics (pure: no I/O, no clock): deployment frequency, change lead time, change fail
 * rate, failed deployment recovery time and rework rate over a period in a time zone, with weekly
 * points and performance levels. The definitions are written out in docs/delivery.md "Definitions";
 * keep the two in step.
 */
import { percentilesContInPlace } from '../platform/stats.js';
import { benchmarkSource, LATEST_BENCHMARK_YEAR, type Level, levelFor } from './levels.js';
import type { CauseLink, DeployedChange, DeploymentFact, DeploymentKind } from './model.js';
import { weekBuckets } from './weeks.js';

export interface DeliveryMetricsInput {
  /** Start of the period (inclusive): midnight starting `from` in the zone. */
  readonly fromMs: number;
  /** End of the period (exclusive): midnight after `to` in the zone. */
  readonly toMs: number;
  /** IANA zone for calendar days and Monday-start weeks. */
  readonly timeZone: string;
  /** Production deployments of the services in scope; may reach before and after the period. */
  readonly deployments: readonly DeploymentFact[];
  /** Confirmed incident → deployment links. */
  readonly causes: readonly CauseLink[];
  /** Deployed changes, one row per change; those first deployed outside the period are ignored. */
  readonly changes: readonly DeployedChange[];
  /** Benchmark table year; default the latest. */
  readonly benchmarkYear?: number | undefined;
}

export interface WeekPoint {
  /** The week's Monday in the zone, YYYY-MM-DD (may be before the period's first day). */
  readonly start: string;
  /** Midnight starting that Monday in the zone. */
  readonly startMs: number;
  /** Successful production deployments finishing in the week and in the period. */
  readonly deployments: number;
  readonly leadTimeMedianMs: number | null;
  readonly changeFailRate: number | null;
  readonly recoveryMedianMs: number | null;
  readonly reworkRate: number | null;
}

export interface DeliveryMetrics {
  readonly period: {
    readonly fromMs: number;
    readonly toMs: number;
    readonly timeZone: string;
    readonly days: number;
  };
  readonly benchmark: { readonly year: number; readonly source: string };
  readonly deploymentFrequency: {
    readonly count: number;
    readonly perDay: number;
    readonly perWeek: number;
    readonly level: Level | null;
  };
  readonly leadTime: {
    /** Changes first deployed in the period with a lead time > 0. */
    readonly changes: number;
    /** Changes first deployed in the period with a lead time ≤ 0 (clock skew, rebased commits). */
    readonly excluded: number;
    readonly medianMs: number | null;
    readonly p90Ms: number | null;
    readonly level: Level | null;
  };
  readonly changeFailRate: {
    /** Deployments reaching production (status success or rolled_back) finishing in the period. */
    readonly deployments: number;
    readonly failed: number;
    readonly rate: number | null;
    readonly level: Level | null;
  };
  readonly recoveryTime: {
    readonly failed: number;
    readonly recovered: number;
    readonly medianMs: number | null;
    readonly p90Ms: number | null;
    readonly level: Level | null;
  };
  readonly reworkRate: {
    readonly deployments: number;
    readonly unplanned: number;
    readonly rate: number | null;
    /** Always null up to the 2024 tables: no report gives rework-rate clusters. */
    readonly level: Level | null;
  };
  readonly weeks: readonly WeekPoint[];
}

/** Deployment flag: it ended `success` (else `rolled_back`; failures never reached production). */
export const FLAG_SUCCESS = 1;
/** Deployment flag: its kind is `hotfix` or `rollback` (it restores what came before: rework). */
export const FLAG_RESTORING = 2;

/**
 * Production deployments that reached production, column-wise (the shape stored summaries unpack
 * into without an object per row): grouped by service, each group in finish order, then id.
 */
export interface DeploymentColumns {
  /** Group g (a service) is the index range [groupStart[g], groupStart[g + 1]). */
  readonly groupStart: Int32Array;
  readonly finishedAtMs: Float64Array;
  /** FLAG_SUCCESS | FLAG_RESTORING bits. */
  readonly flags: Uint8Array;
  /** Incident ids each deployment fixes, by index (the few that fix something). */
  readonly fixes: ReadonlyMap<number, readonly string[]>;
  /** Confirmed causes naming each deployment, by index. */
  readonly causes: ReadonlyMap<number, readonly CauseLink[]>;
}

/** First-shipped changes column-wise: group g, first deployed at groupAtMs[g], has the lead times [groupEnd[g - 1] (0 for g = 0), groupEnd[g]). */
export interface ChangeColumns {
  readonly groupAtMs: Float64Array;
  readonly groupEnd: Int32Array;
  /** First deployment's finish − commit time, per change. */
  readonly leadTimeMs: Float64Array;
}

export interface DeliveryColumnsInput {
  readonly fromMs: number;
  readonly toMs: number;
  readonly timeZone: string;
  readonly deployments: DeploymentColumns;
  readonly changes: ChangeColumns;
  readonly benchmarkYear?: number | undefined;
}

const NO_LINKS: readonly CauseLink[] = [];

const isRestoringKind = (kind: DeploymentKind): boolean => kind === 'hotfix' || kind === 'rollback';

/** By finish, then id: the order "next deployment" means; ties broken by id so input order never matters. */
function byFinish(a: DeploymentFact, b: DeploymentFact): number {
  return a.finishedAtMs - b.finishedAtMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** The DORA metrics of the deployments, causes and changes over [fromMs, toMs) in the zone. */
export function computeDeliveryMetrics(input: DeliveryMetricsInput): DeliveryMetrics {
  return computeDeliveryMetricsFromColumns({
    fromMs: input.fromMs,
    toMs: input.toMs,
    timeZone: input.timeZone,
    deployments: deploymentColumns(input.deployments, input.causes),
    changes: changeColumns(input.changes),
    benchmarkYear: input.benchmarkYear,
  });
}

/** Deployment facts → columns: those that reached production, per service in finish order. */
export function deploymentColumns(
  deployments: readonly DeploymentFact[],
  causes: readonly CauseLink[],
): DeploymentColumns {
  const byService = new Map<string, DeploymentFact[]>();
  let count = 0;
  for (const deployment of deployments) {
    if (deployment.status === 'failure') continue;
    pushTo(byService, deployment.service, deployment);
    count++;
  }
  const groupStart = new Int32Array(byService.size + 1);
  const finishedAtMs = new Float64Array(count);
  const flags = new Uint8Array(count);
  const fixes = new Map<number, readonly string[]>();
  const indexOf = new Map<string, number>();
  let at = 0;
  let group = 0;
  for (const list of byService.values()) {
    list.sort(byFinish);
    groupStart[group++] = at;
    for (const deployment of list) {
      finishedAtMs[at] = deployment.finishedAtMs;
      flags[at] =
        (deployment.status === 'success' ? FLAG_SUCCESS : 0) |
        (isRestoringKind(deployment.kind) ? FLAG_RESTORING : 0);
      if (deployment.fixes.length) fixes.set(at, deployment.fixes);
      indexOf.set(deployment.id, at++);
    }
  }
  groupStart[group] = at;
  const linked = new Map<number, CauseLink[]>();
  for (const cause of causes) {
    const index = indexOf.get(cause.deploymentId);
    if (index !== undefined) pushTo(linked, index, cause);
  }
  return { groupStart, finishedAtMs, flags, fixes, causes: linked };
}

/** Deployed changes → columns, one group per change. */
export function changeColumns(changes: readonly DeployedChange[]): ChangeColumns {
  const groupAtMs = new Float64Array(changes.length);
  const groupEnd = new Int32Array(changes.length);
  const leadTimeMs = new Float64Array(changes.length);
  changes.forEach((change, i) => {
    groupAtMs[i] = change.firstDeployedAtMs;
    groupEnd[i] = i + 1;
    leadTimeMs[i] = change.firstDeployedAtMs - change.committedAtMs;
  });
  return { groupAtMs, groupEnd, leadTimeMs };
}

/** The metrics over column-wise input (the stored summaries' path; computeDeliveryMetrics's too). */
export function computeDeliveryMetricsFromColumns(input: DeliveryColumnsInput): DeliveryMetrics {
  const { fromMs, toMs, timeZone } = input;
  const year = input.benchmarkYear ?? LATEST_BENCHMARK_YEAR;
  const benchmark = benchmarkSource(year); // throws Invalid on an unknown year, before any work
  const buckets = weekBuckets(fromMs, toMs, timeZone);
  const weekCount = buckets.weeks.length;
  const inPeriod = (ms: number): boolean => ms >= fromMs && ms < toMs;
  // Per-week counters as typed arrays: this loop runs once per deployment.
  const weekSuccesses = new Int32Array(weekCount);
  const weekReached = new Int32Array(weekCount);
  const weekFailed = new Int32Array(weekCount);
  const weekUnplanned = new Int32Array(weekCount);
  const { groupStart, finishedAtMs: finishes, flags } = input.deployments;
  const { fixes, causes } = input.deployments;

  // Incident id → finishes of the deployments that name it in `fixes`, ascending.
  const fixFinishes = new Map<string, number[]>();
  for (const [index, incidentIds] of fixes)
    for (const incidentId of incidentIds) pushTo(fixFinishes, incidentId, finishes[index]!);
  for (const list of fixFinishes.values()) list.sort((a, b) => a - b);
  // The few deployments with fixes or causes, marked so the loop looks them up only then.
  const LINKED = 1;
  const FIXING = 2;
  const marks = new Uint8Array(finishes.length);
  for (const index of causes.keys()) marks[index]! |= LINKED;
  for (const [index, incidentIds] of fixes) if (incidentIds.length) marks[index]! |= FIXING;

  let successes = 0;
  let reached = 0;
  let failed = 0;
  let unplanned = 0;
  const recoveries: number[] = [];
  const recoveryWeeks: number[] = [];
  for (let group = 0; group + 1 < groupStart.length; group++) {
    const end = groupStart[group + 1]!;
    for (let i = groupStart[group]!; i < end; i++) {
      const finishedAt = finishes[i]!;
      if (!inPeriod(finishedAt)) continue;
      const week = buckets.weekOf(finishedAt);
      const flag = flags[i]!;
      const mark = marks[i]!;
      reached++;
      weekReached[week]!++;
      if (flag & FLAG_SUCCESS) {
        successes++;
        weekSuccesses[week]!++;
      }
      if (flag & FLAG_RESTORING || mark & FIXING) {
        unplanned++;
        weekUnplanned[week]!++;
      }
      const followedByFix = i + 1 < end && (flags[i + 1]! & FLAG_RESTORING) !== 0;
      if (!(mark & LINKED || !(flag & FLAG_SUCCESS) || followedByFix)) continue;
      failed++;
      weekFailed[week]!++;
      const recoveryMs = recoveryOf(
        finishedAt,
        followedByFix ? finishes[i + 1]! : undefined,
        causes.get(i) ?? NO_LINKS,
        fixFinishes,
      );
      if (recoveryMs !== null) {
        recoveries.push(recoveryMs);
        recoveryWeeks.push(week);
      }
    }
  }

  // Lead times straight into one array bucketed by week (a counting pass, then a placing pass):
  // no per-row allocation, no second copy; percentiles by selection, not sorting.
  const { groupAtMs, groupEnd, leadTimeMs } = input.changes;
  const groupWeek = new Int32Array(groupAtMs.length).fill(-1);
  const weekOffsets = new Int32Array(weekCount + 1);
  let excluded = 0;
  for (let group = 0, j = 0; group < groupAtMs.length; group++) {
    const at = groupAtMs[group]!;
    const end = groupEnd[group]!;
    if (!inPeriod(at)) {
      j = end;
      continue;
    }
    const week = buckets.weekOf(at);
    groupWeek[group] = week;
    for (; j < end; j++) {
      if (leadTimeMs[j]! > 0) weekOffsets[week + 1]!++;
      else excluded++;
    }
  }
  for (let w = 0; w < weekCount; w++) weekOffsets[w + 1]! += weekOffsets[w]!;
  const allLeadTimes = new Float64Array(weekOffsets[weekCount]!);
  const cursor = weekOffsets.slice(0, weekCount);
  for (let group = 0, j = 0; group < groupAtMs.length; group++) {
    const week = groupWeek[group]!;
    const end = groupEnd[group]!;
    if (week < 0) {
      j = end;
      continue;
    }
    for (; j < end; j++) {
      const lead = leadTimeMs[j]!;
      if (lead > 0) allLeadTimes[cursor[week]!++] = lead;
    }
  }
  // Weekly medians first (each permutes only its own week's segment), then the whole period's.
  const leadByWeek = segmentMedians(allLeadTimes, weekOffsets);
  const [leadMedianMs, leadP90Ms] = percentilesContInPlace(allLeadTimes, [0.5, 0.9]);
  const allRecoveries = Float64Array.from(recoveries);
  const recoveryByWeek = weeklyMedians(allRecoveries, Int32Array.from(recoveryWeeks), weekCount);
  const [recoveryMedianMs, recoveryP90Ms] = percentilesContInPlace(allRecoveries, [0.5, 0.9]);

  const days = buckets.days;
  const perDay = days > 0 ? successes / days : 0;
  const rate = (part: number, whole: number): number | null => (whole > 0 ? part / whole : null);
  const failRate = rate(failed, reached);
  const reworkRate = rate(unplanned, reached);

  return {
    period: { fromMs, toMs, timeZone, days },
    benchmark,
    deploymentFrequency: {
      count: successes,
      perDay,
      perWeek: perDay * 7,
      level: days > 0 ? levelFor('deploymentFrequency', perDay, year) : null,
    },
    leadTime: {
      changes: allLeadTimes.length,
      excluded,
      medianMs: leadMedianMs ?? null,
      p90Ms: leadP90Ms ?? null,
      level: levelFor('leadTime', leadMedianMs ?? null, year),
    },
    changeFailRate: {
      deployments: reached,
      failed,
      rate: failRate,
      level: levelFor('changeFailRate', failRate, year),
    },
    recoveryTime: {
      failed,
      recovered: allRecoveries.length,
      medianMs: recoveryMedianMs ?? null,
      p90Ms: recoveryP90Ms ?? null,
      level: levelFor('recoveryTime', recoveryMedianMs ?? null, year),
    },
    reworkRate: {
      deployments: reached,
      unplanned,
      rate: reworkRate,
      level: levelFor('reworkRate', reworkRate, year),
    },
    weeks: buckets.weeks.map((week, index) => ({
      start: week.start,
      startMs: week.startMs,
      deployments: weekSuccesses[index]!,
      leadTimeMedianMs: leadByWeek[index]!,
      changeFailRate: rate(weekFailed[index]!, weekReached[index]!),
      recoveryMedianMs: recoveryByWeek[index]!,
      reworkRate: rate(weekUnplanned[index]!, weekReached[index]!),
    })),
  };
}

/**
 * Recovery time of a failed deployment, or null when nothing ended it. Start: its finish, or the
 * earliest impact start of its incidents if earlier. End: the earliest of the restoring deployment
 * (the next one, when it is a hotfix or rollback), the first later deployment that names one of its
 * incidents in `fixes`, and — when all its incidents are resolved — the latest resolution.
 */
function recoveryOf(
  finishedAtMs: number,
  restoringAtMs: number | undefined,
  links: readonly CauseLink[],
  fixFinishes: ReadonlyMap<string, readonly number[]>,
): number | null {
  let startMs = finishedAtMs;
  let endMs = restoringAtMs ?? Number.POSITIVE_INFINITY;
  let allResolved = links.length > 0;
  let lastResolvedMs = Number.NEGATIVE_INFINITY;
  for (const link of links) {
    startMs = Math.min(startMs, link.impactStartedAtMs);
    const finishes = fixFinishes.get(link.incidentId);
    if (finishes) {
      const first = firstAbove(finishes, finishedAtMs);
      if (first !== undefined) endMs = Math.min(endMs, first);
    }
    if (link.resolvedAtMs === undefined) allResolved = false;
    else lastResolvedMs = Math.max(lastResolvedMs, link.resolvedAtMs);
  }
  if (allResolved) endMs = Math.min(endMs, lastResolvedMs);
  // A resolution recorded before the impact start (inconsistent times) counts as no time, not less.
  return Number.isFinite(endMs) ? Math.max(0, endMs - startMs) : null;
}

function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** The first value > `ms` in ascending `values` (binary search). */
function firstAbove(values: readonly number[], ms: number): number | undefined {
  let low = 0;
  let high = values.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (values[mid]! > ms) high = mid;
    else low = mid + 1;
  }
  return values[low];
}

/** The median of the values in each bucket (0..count-1): one pass to group them, then segmentMedians. */
function weeklyMedians(values: Float64Array, groups: Int32Array, count: number): (number | null)[] {
  const offsets = new Int32Array(count + 1);
  for (let i = 0; i < values.length; i++) offsets[groups[i]! + 1]!++;
  for (let g = 0; g < count; g++) offsets[g + 1]! += offsets[g]!;
  const flat = new Float64Array(values.length);
  const cursor = offsets.slice(0, count);
  for (let i = 0; i < values.length; i++) flat[cursor[groups[i]!]!++] = values[i]!;
  return segmentMedians(flat, offsets);
}

/** The median of each segment [offsets[g], offsets[g + 1]) of `values` (each segment is permuted). */
function segmentMedians(values: Float64Array, offsets: Int32Array): (number | null)[] {
  const medians: (number | null)[] = [];
  for (let g = 0; g + 1 < offsets.length; g++)
    medians.push(percentilesContInPlace(values.subarray(offsets[g]!, offsets[g + 1]!), [0.5])[0]!);
  return medians;
}
