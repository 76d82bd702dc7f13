/**
 * The monthly report's data (use cases over the other capabilities' public faces): one product's
 * calendar month in a zone — verdict per SLO from the stored minutes, what to do, the 6-month
 * trend, incidents, action items, risks, alerts and delivery — from the same services as the API.
 */
import {
  type BurnEvent,
  detectionDelaysMinutes,
  type Firing,
  qualityInputs,
  readFirings,
} from '../alerting/index.js';
import { type DeliveryDeps, deliveryMetrics } from '../delivery/index.js';
import {
  type ActionItem,
  budgetImpact,
  type Incident,
  type IncidentDeps,
  listActionItems,
  listIncidents,
  listPostmortems,
} from '../incidents/index.js';
import type { Clock } from '../platform/clock.js';
import type { Config } from '../platform/config.js';
import type { Db } from '../platform/db/index.js';
import { AppError } from '../platform/errors.js';
import { median } from '../platform/stats.js';
import { catalogRiskAnalysis } from '../risks/index.js';
import {
  type Catalog,
  closest,
  type EvaluationPart,
  type EvaluationTarget,
  evaluateTarget,
  evaluationTargets,
  type MinuteRow,
  type MinuteSums,
  readMinutes,
  sumMinutes,
} from '../slo/index.js';
import type {
  ActionItemCounts,
  MonthlyReport,
  ReportAlerts,
  ReportDelivery,
  ReportIncident,
  ReportLanguage,
  ReportRisk,
  SloVerdict,
  TodoItem,
  TrendMonth,
} from './model.js';
import {
  alertsPerWeek,
  countBy,
  deepestPolicyStep,
  localDate,
  monthBounds,
  monthStartWallTime,
  monthsEndingWith,
  noiseShareOf,
  noisyRules,
  productServices,
  weeksOverlapping,
} from './month.js';

const MINUTE_MS = 60_000;
/** Months in the trend, the report's month last. */
export const TREND_MONTHS = 6;
/** Risks the report lists (largest bad minutes a year first); every too-big one is also a to-do. */
export const TOP_RISKS = 10;

export interface ReportDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly catalog: () => Catalog;
  /** The zone calendar months are cut in (reports.timeZone, see `reportTimeZone`). */
  readonly timeZone: string;
  /** risks.tooBigShare. */
  readonly tooBigShare: number;
  readonly incidents: IncidentDeps;
  readonly delivery: DeliveryDeps;
}

export interface ReportQuery {
  readonly product: string;
  /** `YYYY-MM`. */
  readonly month: string;
  readonly language: ReportLanguage;
}

/** reports.timeZone; unset: the status page's zone when set (not UTC), else incidents.timeZone. */
export function reportTimeZone(config: Pick<Config, 'reports' | 'statusPage' | 'incidents'>): string {
  return (
    config.reports.timeZone ??
    (config.statusPage.timeZone !== 'UTC' ? config.statusPage.timeZone : config.incidents.timeZone)
  );
}

/** One target's figures over a calendar month (see `monthFigures`). */
export interface MonthFigures {
  readonly attainment: number | null;
  readonly unit: 'events' | 'minutes';
  readonly allowed: number;
  readonly consumed: number;
  readonly consumedShare: number | null;
}

type Spec = EvaluationPart['spec'];

/**
 * A target's calendar-month figures, by the engine from the stored minutes of `[fromMs, toMs)`:
 * attainment (good/total, or the good share of counted slices), the budget allowed ((1 − target) ×
 * events, or × the month's eligible slice minutes) and consumed. A month still under way is
 * evaluated now as a calendar period starting at the month's first midnight (so its slices' budget
 * is the whole month's). A past month is evaluated at its end as a rolling window of exactly the
 * month, which is the same thing when its slices tile the month from an epoch-aligned start (every
 * zone with whole-hour or half-hour offsets and slices dividing 30 minutes); otherwise as the
 * calendar period one millisecond before its end: exact when the slices do not tile the month (no
 * complete slice ends in its last minute); when they tile it from a start off the epoch's slice
 * grid (a 45-minute zone offset, 7-minute slices), the month's last slice is left out of the
 * attainment and the consumption (the engine cannot end a calendar period's evaluation on its end).
 */
export function monthFigures(
  target: EvaluationTarget,
  rowsFor: (part: EvaluationPart) => readonly MinuteRow[],
  period: {
    readonly month: string;
    readonly fromMs: number;
    readonly toMs: number;
    readonly timeZone: string;
  },
  nowMs: number,
): MonthFigures {
  const unit = target.parts[0]!.spec.method === 'Occurrences' ? 'events' : 'minutes';
  if (nowMs <= period.fromMs) return { attainment: null, unit, allowed: 0, consumed: 0, consumedShare: null };
  const calendar = (spec: Spec): Spec => ({
    ...spec,
    window: {
      kind: 'calendar',
      duration: { count: 1, unit: 'M' },
      startTime: monthStartWallTime(period.month),
      timeZone: period.timeZone,
    },
    burnWindows: [],
    currentBurnWindowMs: MINUTE_MS,
  });
  const rolling = (spec: Spec): Spec => {
    const windowMs = period.toMs - period.fromMs;
    return {
      ...spec,
      window: { kind: 'rolling', duration: { count: windowMs / MINUTE_MS, unit: 'm' }, windowMs },
      burnWindows: [],
      currentBurnWindowMs: MINUTE_MS,
    };
  };
  const tiles = target.parts.every((p) => {
    const sliceMs = p.spec.method === 'Occurrences' ? MINUTE_MS : (p.spec.timeSliceMs ?? MINUTE_MS);
    return period.fromMs % sliceMs === 0 && (period.toMs - period.fromMs) % sliceMs === 0;
  });
  let atMs: number;
  let reshape: (spec: Spec) => Spec;
  if (nowMs < period.toMs) {
    atMs = nowMs;
    reshape = calendar;
  } else if (tiles) {
    atMs = period.toMs;
    reshape = rolling;
  } else {
    atMs = period.toMs - 1;
    reshape = calendar;
  }
  const monthTarget: EvaluationTarget = {
    ...target,
    parts: target.parts.map((p) => ({ ...p, spec: reshape(p.spec) })),
  };
  const byKey = new Map(target.parts.map((p) => [p.key, p]));
  const status = evaluateTarget(
    monthTarget,
    (part) => rowsFor(byKey.get(part.key)!).map((r) => ({ ts: r.minuteMs, good: r.good, total: r.total })),
    atMs,
  );
  const allowed = status.budget.total;
  const consumed = status.budget.consumed;
  return {
    attainment: status.sli,
    unit: status.budget.unit,
    allowed,
    consumed,
    consumedShare: allowed > 0 ? consumed / allowed : null,
  };
}

/** The product's services and its evaluation targets (every SLO of those services, by service then id). */
export function resolveProduct(
  catalog: Catalog,
  product: string,
): { services: string[]; targets: EvaluationTarget[] } {
  const match = productServices(
    product,
    catalog.slos.map((s) => ({
      id: s.id,
      service: s.service,
      owner: s.shinrai.owner,
      journey: s.shinrai.journey,
      labels: s.labels,
    })),
    catalog.services.map((s) => ({
      name: s.name,
      owner: s.shinrai?.owner,
      journey: s.shinrai?.journey,
      labels: s.labels,
    })),
  );
  if (!match.ok) {
    const near = closest(product, match.candidates);
    throw new AppError(
      'NotFound',
      `no product ${JSON.stringify(product)}: name a service, owner:<team>, journey:<journey> or label:<key>=<value>${
        near ? ` (did you mean ${JSON.stringify(near)}?)` : ''
      }`,
    );
  }
  const services = new Set(match.services);
  return {
    services: [...services],
    targets: evaluationTargets(catalog)
      .filter((t) => services.has(t.slo.service))
      .sort((a, b) => a.slo.service.localeCompare(b.slo.service) || a.id.localeCompare(b.id)),
  };
}

const sloLink = (sloId: string) => `/slos/${encodeURIComponent(sloId)}`;

async function monthRows(db: Db, targets: readonly EvaluationTarget[], fromMs: number, toMs: number) {
  const rows = new Map<string, MinuteRow[]>();
  for (const target of targets)
    for (const part of target.parts)
      if (!rows.has(part.storageKey))
        rows.set(part.storageKey, await readMinutes(db, part.storageKey, fromMs, toMs));
  return (part: EvaluationPart) => rows.get(part.storageKey) ?? [];
}

/**
 * Whether a target's month figures are plain sums of its stored minutes, so the database can sum
 * them (`summedFigures`) instead of the engine walking every minute: one Occurrences objective
 * without budget adjustments, over a month whose bounds are whole minutes. The engine then counts
 * every stored minute of the range once (Σgood, Σ(total − good), Σtotal), which is what the sums are.
 */
export function summable(target: EvaluationTarget, period: { fromMs: number; toMs: number }): boolean {
  const part = target.parts[0]!;
  return (
    target.parts.length === 1 &&
    part.spec.method === 'Occurrences' &&
    part.spec.adjustments.length === 0 &&
    period.fromMs % MINUTE_MS === 0 &&
    period.toMs % MINUTE_MS === 0
  );
}

const NO_MINUTES: MinuteSums = { good: 0, bad: 0, total: 0, dataMinutes: 0 };

/**
 * A summable target's month figures from its sums, by the engine's Occurrences formulas
 * (assembleStatus): attainment Σgood ÷ Σtotal, allowed (1 − target) × Σtotal, consumed Σ(total −
 * good); nothing allowed and no attainment without data.
 */
export function summedFigures(target: EvaluationTarget, sums: MinuteSums): MonthFigures {
  const hasData = sums.dataMinutes > 0;
  const allowed = hasData ? (1 - target.parts[0]!.spec.target) * sums.total : 0;
  return {
    attainment: hasData ? sums.good / sums.total : null,
    unit: 'events',
    allowed,
    consumed: sums.bad,
    consumedShare: allowed > 0 ? sums.bad / allowed : null,
  };
}

/**
 * Every target's figures for one month: summable ones from the database's sums, the others by the
 * engine over their stored minutes (`monthFigures`). The range read ends now for a month under way
 * (the engine counts only whole minutes before now).
 */
async function allMonthFigures(
  db: Db,
  targets: readonly EvaluationTarget[],
  period: {
    readonly month: string;
    readonly fromMs: number;
    readonly toMs: number;
    readonly timeZone: string;
  },
  nowMs: number,
): Promise<MonthFigures[]> {
  if (nowMs <= period.fromMs) return targets.map((t) => monthFigures(t, () => [], period, nowMs));
  const summed = targets.filter((t) => summable(t, period));
  const walked = targets.filter((t) => !summable(t, period));
  const endMs = Math.min(period.toMs, Math.floor(nowMs / MINUTE_MS) * MINUTE_MS);
  // Whole hours from the stored hour sums, the partial ones from the minutes (slo/hour-sums.ts).
  const sums = await sumMinutes(
    db,
    [...new Set(summed.map((t) => t.parts[0]!.storageKey))],
    period.fromMs,
    endMs,
  );
  const rowsFor = await monthRows(db, walked, period.fromMs, Math.min(period.toMs, nowMs));
  return targets.map((t) =>
    summable(t, period)
      ? summedFigures(t, sums.get(t.parts[0]!.storageKey) ?? NO_MINUTES)
      : monthFigures(t, rowsFor, period, nowMs),
  );
}

export async function monthlyReport(deps: ReportDeps, query: ReportQuery): Promise<MonthlyReport> {
  const timeZone = deps.timeZone;
  const bounds = monthBounds(query.month, timeZone);
  if (!bounds.ok)
    throw new AppError('Invalid', `month: ${bounds.error}`, [{ field: 'month', message: bounds.error }]);
  const { fromMs, toMs } = bounds.value;
  const nowMs = deps.clock.now();
  const catalog = deps.catalog();
  const { services, targets } = resolveProduct(catalog, query.product);
  const serviceSet = new Set(services);
  const sloIds = new Set(targets.map((t) => t.slo.id));
  const targetIds = new Set(targets.map((t) => t.id));

  // 1. Verdict.
  const figures = await allMonthFigures(
    deps.db,
    targets,
    { month: query.month, fromMs, toMs, timeZone },
    nowMs,
  );
  const verdict: SloVerdict[] = targets.map((target, i) => {
    const f = figures[i]!;
    const step =
      f.consumedShare === null
        ? undefined
        : deepestPolicyStep(target.slo.shinrai.errorBudgetPolicy, 1 - f.consumedShare);
    return {
      slo: target.id,
      displayName: target.slo.displayName,
      service: target.slo.service,
      target: target.target,
      attainment: f.attainment,
      met: f.attainment === null ? null : f.attainment >= target.target,
      budget: { unit: f.unit, allowed: f.allowed, consumed: f.consumed, consumedShare: f.consumedShare },
      policyStep: step ? { below: step.below, action: step.action, gate: step.gate } : undefined,
      link: sloLink(target.slo.id),
    };
  });

  // 2. Trend: the same figures for the months before (the report's month is the verdict's).
  const trend: TrendMonth[] = [];
  for (const month of monthsEndingWith(query.month, TREND_MONTHS)) {
    if (month === query.month) {
      trend.push({
        month,
        slos: verdict.map((v) => ({
          slo: v.slo,
          attainment: v.attainment,
          consumedShare: v.budget.consumedShare,
        })),
      });
      continue;
    }
    const b = monthBounds(month, timeZone);
    if (!b.ok) continue;
    const monthly = await allMonthFigures(deps.db, targets, { month, ...b.value, timeZone }, nowMs);
    trend.push({
      month,
      slos: targets.map((target, i) => ({
        slo: target.id,
        attainment: monthly[i]!.attainment,
        consumedShare: monthly[i]!.consumedShare,
      })),
    });
  }

  // 3. Incidents whose impact started in the month.
  const allIncidents = await listIncidents(deps.incidents, {});
  const productIncidents = allIncidents.filter(
    (i) => !i.drill && (i.services.some((s) => serviceSet.has(s)) || i.slos.some((s) => sloIds.has(s))),
  );
  const postmortems = await listPostmortems(deps.incidents);
  const postmortemOf = new Map<string, string>();
  for (const pm of [...postmortems].sort((a, b) => a.createdAtMs - b.createdAtMs))
    for (const ref of pm.incidents) postmortemOf.set(ref, pm.status);
  const incidents: ReportIncident[] = [];
  for (const incident of productIncidents) {
    const startedAtMs = incidentStartMs(incident);
    if (startedAtMs < fromMs || startedAtMs >= toMs) continue;
    const m = incident.milestones;
    const endMs = m.mitigatedAt ?? m.resolvedAt;
    const impact = await budgetImpact(deps.incidents, catalog, incident);
    incidents.push({
      reference: incident.reference,
      title: incident.title,
      severity: incident.severity,
      status: incident.status,
      startedAtMs,
      durationMs: endMs === undefined ? null : endMs - startedAtMs,
      budgetImpact: impact
        .filter((b) => targetIds.has(b.slo))
        .map((b) => ({ slo: b.slo, unit: b.unit, consumed: b.consumed, shareOfBudget: b.shareOfBudget })),
      postmortem: postmortemOf.get(incident.reference) ?? 'none',
      link: `/incidents/${encodeURIComponent(incident.reference)}`,
    });
  }
  incidents.sort((a, b) => a.startedAtMs - b.startedAtMs || a.reference.localeCompare(b.reference));

  // 4. Action items of the postmortems covering the product's incidents (of any month).
  const productRefs = new Set(productIncidents.map((i) => i.reference));
  const productPostmortems = new Set(
    postmortems.filter((pm) => pm.incidents.some((ref) => productRefs.has(ref))).map((pm) => pm.id),
  );
  const items = (await listActionItems(deps.incidents)).filter((i) => productPostmortems.has(i.postmortemId));
  const asOfMs = Math.min(toMs, nowMs);
  const overdueItems = overdueAt(items, asOfMs, timeZone);
  const actionItems: ActionItemCounts = {
    opened: countBy(
      items.filter((i) => i.createdAtMs >= fromMs && i.createdAtMs < toMs),
      (i) => i.priority,
    ),
    closed: countBy(
      items.filter(
        (i) =>
          i.status !== 'open' && i.closedAtMs !== undefined && i.closedAtMs >= fromMs && i.closedAtMs < toMs,
      ),
      (i) => i.priority,
    ),
    overdue: countBy(overdueItems, (i) => i.priority),
  };

  // 5. Risks of the product's services, against their SLOs' yearly budgets.
  const analysis = catalogRiskAnalysis(catalog, { tooBigShare: deps.tooBigShare });
  const productRisks = analysis.risks.filter((r) => serviceSet.has(r.service));
  const risks: ReportRisk[] = productRisks.map((r) => {
    const widest = [...r.shares].sort((a, b) => b.share - a.share)[0];
    return {
      name: r.name,
      service: r.service,
      slo: widest?.slo,
      badMinutesPerYear: r.badMinutesPerYear,
      yearlyBudgetMinutes: widest?.yearlyBudgetMinutes ?? 0,
      shareOfYearlyBudget: widest?.share ?? 0,
      tooBig: r.tooBig,
      link: `/risks#${encodeURIComponent(r.name)}`,
    };
  });

  // 6. Alerts whose firing started in the month. A burn counts only when an alert of its own SLO
  // detected it (detectionDelaysMinutes), so only the SLOs that fired have their minutes scanned
  // for significant burns (a month of every SLO's minutes is millions of rows).
  const firings: Firing[] = (await readFirings(deps.db.kysely, fromMs, asOfMs)).filter((f) =>
    targetIds.has(f.slo),
  );
  const fired = new Set(firings.map((f) => f.slo));
  const firedSlos = new Set(targets.filter((t) => fired.has(t.id)).map((t) => t.slo.id));
  const burns: BurnEvent[] = firedSlos.size
    ? (
        await qualityInputs(
          deps.db,
          { ...catalog, slos: catalog.slos.filter((s) => firedSlos.has(s.id)) },
          fromMs,
          asOfMs,
        )
      ).burns.filter((b) => fired.has(b.slo))
    : [];
  const delayMinutes = median(detectionDelaysMinutes(burns, firings));
  const alerts: ReportAlerts = {
    weeks: alertsPerWeek(firings, weeksOverlapping(fromMs, toMs, timeZone)),
    noiseShare: noiseShareOf(firings),
    medianDetectionMs: delayMinutes === null ? null : delayMinutes * MINUTE_MS,
  };

  // 7. Delivery.
  const delivery = await monthDelivery(deps, services, fromMs, toMs, timeZone);

  // What to do: policy steps, overdue action items, risks too big, noisy alert rules.
  const todo: TodoItem[] = [
    ...verdict.flatMap((v): TodoItem[] =>
      v.policyStep
        ? [{ kind: 'policy', slo: v.slo, action: v.policyStep.action, gate: v.policyStep.gate, link: v.link }]
        : [],
    ),
    ...overdueItems.map(
      (i): TodoItem => ({
        kind: 'overdue-action-item',
        id: i.id,
        title: i.title,
        priority: i.priority,
        dueDate: i.dueDate ?? '',
        link: `/postmortems/${encodeURIComponent(i.postmortemId)}`,
      }),
    ),
    ...risks
      .filter((r) => r.tooBig)
      .map(
        (r): TodoItem => ({
          kind: 'risk-too-big',
          risk: r.name,
          slo: r.slo,
          shareOfYearlyBudget: r.shareOfYearlyBudget,
          link: r.link,
        }),
      ),
    ...noisyRules(firings).map(
      (n): TodoItem => ({
        kind: 'noisy-alert',
        slo: n.slo,
        rule: n.rule,
        noiseShare: n.noiseShare,
        link: '/alerts',
      }),
    ),
  ];

  return {
    product: { name: query.product, services },
    month: query.month,
    timeZone,
    period: { fromMs, toMs },
    language: query.language,
    generatedAtMs: nowMs,
    verdict,
    todo,
    trend,
    incidents,
    actionItems,
    risks: risks.slice(0, TOP_RISKS),
    alerts,
    delivery,
  };
}

/** Impact start, else detection, else declaration. */
function incidentStartMs(incident: Incident): number {
  return incident.milestones.impactStartedAt ?? incident.milestones.detectedAt ?? incident.createdAtMs;
}

/**
 * Items open at `atMs` (created before it, not closed by it) whose due date lies before that
 * instant's local day: the day after the month at the month's end (an item due on its last day
 * is overdue from the next midnight), as the action-item list counts overdue.
 */
export function overdueAt(items: readonly ActionItem[], atMs: number, timeZone: string): ActionItem[] {
  const today = localDate(atMs, timeZone);
  return items.filter(
    (i) =>
      i.createdAtMs < atMs &&
      (i.status === 'open' || (i.closedAtMs !== undefined && i.closedAtMs >= atMs)) &&
      i.dueDate !== undefined &&
      i.dueDate < today,
  );
}

async function monthDelivery(
  deps: ReportDeps,
  services: readonly string[],
  fromMs: number,
  toMs: number,
  timeZone: string,
): Promise<ReportDelivery | null> {
  const m = await deliveryMetrics(deps.delivery, {
    services,
    from: localDate(fromMs, timeZone),
    to: localDate(toMs - 1, timeZone),
    timeZone,
  });
  if (m.deploymentFrequency.count === 0) return null;
  return {
    deployments: m.deploymentFrequency.count,
    leadTimeMedianMs: m.leadTime.medianMs,
    changeFailRate: m.changeFailRate.rate,
    recoveryMedianMs: m.recoveryTime.medianMs,
    reworkRate: m.reworkRate.rate,
    benchmarkYear: m.benchmark.year,
    levels: {
      deploymentFrequency: m.deploymentFrequency.level?.name ?? null,
      leadTime: m.leadTime.level?.name ?? null,
      changeFailRate: m.changeFailRate.level?.name ?? null,
      recoveryTime: m.recoveryTime.level?.name ?? null,
      reworkRate: m.reworkRate.level?.name ?? null,
    },
  };
}
