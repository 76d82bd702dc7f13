/**
 * The error budget an incident consumed, per linked SLO: the engine's own figure for the interval
 * from impact start (or detection) to mitigation (or resolution, or now), in events or minutes and
 * as a share of the period's budget at the interval's end.
 */

import type { Catalog } from '../slo/index.js';
import { budgetBetween, evaluationTargets, readMinutes } from '../slo/index.js';
import type { Incident, IncidentDeps } from './service.js';

export interface BudgetImpact {
  /** The evaluation target (`slo` or `slo/objective`). */
  readonly slo: string;
  readonly from: string;
  readonly to: string;
  readonly unit: 'events' | 'minutes';
  /** Budget consumed within the interval (bad events, or bad minutes for time slices). */
  readonly consumed: number;
  /** `consumed` as a share of the period's whole budget at the interval's end (0.25 = 25%). */
  readonly shareOfBudget: number | null;
}

/** Incidents that consumed more than this share of a budget need a postmortem with a P0 action item. */
export const POSTMORTEM_REQUIRED_SHARE = 0.2;

const MINUTE_MS = 60_000;

export async function budgetImpact(
  deps: IncidentDeps,
  catalog: Catalog,
  incident: Incident,
): Promise<BudgetImpact[]> {
  const m = incident.milestones;
  const fromMs =
    Math.floor((m.impactStartedAt ?? m.detectedAt ?? incident.createdAtMs) / MINUTE_MS) * MINUTE_MS;
  const toMs = Math.ceil((m.mitigatedAt ?? m.resolvedAt ?? deps.clock.now()) / MINUTE_MS) * MINUTE_MS;
  if (!(toMs > fromMs)) return [];
  const out: BudgetImpact[] = [];
  for (const target of evaluationTargets(catalog)) {
    if (!incident.slos.includes(target.slo.id) || target.slo.composite) continue;
    const budget = await budgetBetween(deps.db, target.parts[0]!, fromMs, toMs);
    out.push({
      slo: target.id,
      from: new Date(fromMs).toISOString(),
      to: new Date(toMs).toISOString(),
      unit: budget.unit,
      consumed: budget.consumed,
      shareOfBudget: budget.periodTotal > 0 ? budget.consumed / budget.periodTotal : null,
    });
  }
  return out;
}

/** Calm minutes a burn may pause for and still be one burn (as for significant events). */
const BURN_GAP_MINUTES = 5;
/** How far before detection a burn may have ended and still be this incident's. */
const LOOKBACK_BEFORE_DETECTION_MINUTES = 60;

/**
 * When the burn behind an incident began, from the SLI: the start of the run of minutes burning
 * faster than the budget allows (error ratio above 1 − target, calm gaps of up to 5 minutes
 * merged) that reaches detection or ended at most an hour before it. Per linked SLO; null when
 * the data shows no such burn. A suggestion: people confirm it by setting impactStartedAt.
 */
export async function suggestImpactStart(
  deps: IncidentDeps,
  catalog: Catalog,
  incident: Incident,
): Promise<Array<{ slo: string; impactStartedAt: string | null }>> {
  const detectedMs = incident.milestones.detectedAt ?? incident.createdAtMs;
  const endMinute = Math.floor(detectedMs / MINUTE_MS) * MINUTE_MS;
  const out: Array<{ slo: string; impactStartedAt: string | null }> = [];
  for (const target of evaluationTargets(catalog)) {
    if (!incident.slos.includes(target.slo.id) || target.slo.composite) continue;
    const part = target.parts[0]!;
    const rows = await readMinutes(
      deps.db,
      part.storageKey,
      endMinute - 24 * 60 * MINUTE_MS,
      endMinute + MINUTE_MS,
    );
    const allowed = 1 - part.target;
    const burning = new Set(
      rows.filter((r) => r.total > 0 && (r.total - r.good) / r.total > allowed).map((r) => r.minuteMs),
    );
    let start: number | null = null;
    let calm = 0;
    for (let m = endMinute; m >= endMinute - 24 * 60 * MINUTE_MS; m -= MINUTE_MS) {
      if (burning.has(m)) {
        start = m;
        calm = 0;
      } else if (start === null) {
        if ((endMinute - m) / MINUTE_MS >= LOOKBACK_BEFORE_DETECTION_MINUTES) break;
      } else if (++calm > BURN_GAP_MINUTES) break;
    }
    out.push({ slo: target.id, impactStartedAt: start === null ? null : new Date(start).toISOString() });
  }
  return out;
}
