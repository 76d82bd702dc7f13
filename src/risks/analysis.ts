/**
 * Risk analysis (pure), as SRE teams are taught it: each risk's expected incidents a year
 * (365.25 / ETTF), bad minutes a year ((ETTD + ETTR) × impact × incidents a year), and its share
 * of each linked SLO's yearly error budget ((1 − target) × 525,960 minutes). Risks are ranked by
 * bad minutes; one above the "too big" share must be fixed, and when the risks not yet mitigated
 * add up to more than the whole budget, the SLO is not achievable as designed.
 */
import type { RiskDefinition, RiskFactorDefinition, RiskStatus } from '../slo/index.js';

export const DAYS_PER_YEAR = 365.25;
export const MINUTES_PER_YEAR = 525_960;
/** A single risk above this share of a yearly budget must be fixed (configurable). */
export const DEFAULT_TOO_BIG_SHARE = 0.25;

export interface RiskEstimate {
  readonly ettdMinutes: number;
  readonly ettrMinutes: number;
  /** Fraction of users affected (0 < impact ≤ 1). */
  readonly impact: number;
  readonly ettfDays: number;
}

export function incidentsPerYear(ettfDays: number): number {
  return DAYS_PER_YEAR / ettfDays;
}

export function badMinutesPerYear(e: RiskEstimate): number {
  return (e.ettdMinutes + e.ettrMinutes) * e.impact * incidentsPerYear(e.ettfDays);
}

export function yearlyBudgetMinutes(target: number): number {
  // 1 − 0.999 is 0.0010000000000000009 in binary floating point; 12 significant digits give the
  // published 525.96 instead of 525.9600000000005, far below any difference a target can make.
  return Number(((1 - target) * MINUTES_PER_YEAR).toPrecision(12));
}

/** The estimate with its factors applied: minutes added to ETTD/ETTR, ETTF multiplied. */
export function withFactors(
  risk: RiskEstimate & { readonly factors: readonly string[] },
  factors: ReadonlyMap<string, RiskFactorDefinition>,
): RiskEstimate {
  let { ettdMinutes, ettrMinutes, ettfDays } = risk;
  for (const name of risk.factors) {
    const factor = factors.get(name);
    if (!factor) continue;
    ettdMinutes += factor.addEttdMinutes;
    ettrMinutes += factor.addEttrMinutes;
    ettfDays *= factor.ettfMultiplier;
  }
  return { ettdMinutes, ettrMinutes, impact: risk.impact, ettfDays };
}

/** An SLO as risk analysis sees it: its strictest objective sets the yearly budget. */
export interface RiskSlo {
  readonly id: string;
  readonly service: string;
  readonly target: number;
}

export interface RiskShare {
  readonly slo: string;
  readonly yearlyBudgetMinutes: number;
  /** The risk's bad minutes as a share of that budget (0.81 = 81%). */
  readonly share: number;
  readonly tooBig: boolean;
}

export interface RiskFigures {
  readonly name: string;
  readonly service: string;
  readonly description?: string | undefined;
  readonly status: RiskStatus;
  readonly factors: readonly string[];
  /** As written. */
  readonly estimate: RiskEstimate;
  /** With the factors applied: what the figures use. */
  readonly effective: RiskEstimate;
  readonly incidentsPerYear: number;
  readonly badMinutesPerYear: number;
  readonly shares: readonly RiskShare[];
  /** Above the too-big share of any linked SLO's budget (and not mitigated). */
  readonly tooBig: boolean;
}

export interface SloRiskSummary {
  readonly slo: string;
  readonly service: string;
  readonly target: number;
  readonly yearlyBudgetMinutes: number;
  /** Risks not mitigated (open or accepted) that consume this budget. */
  readonly risks: readonly string[];
  readonly badMinutesPerYear: number;
  readonly share: number;
  /** False when those risks need more than the whole yearly budget. */
  readonly achievable: boolean;
}

export interface RiskAnalysis {
  readonly tooBigShare: number;
  /** Ranked by bad minutes a year, largest first. */
  readonly risks: readonly RiskFigures[];
  readonly slos: readonly SloRiskSummary[];
}

export function analyseRisks(
  input: {
    readonly risks: readonly RiskDefinition[];
    readonly factors: readonly RiskFactorDefinition[];
    readonly slos: readonly RiskSlo[];
  },
  options: { readonly tooBigShare?: number | undefined } = {},
): RiskAnalysis {
  const tooBigShare = options.tooBigShare ?? DEFAULT_TOO_BIG_SHARE;
  const factors = new Map(input.factors.map((f) => [f.name, f]));
  const slosOf = (risk: RiskDefinition) =>
    input.slos.filter((s) => (risk.slos.length ? risk.slos.includes(s.id) : s.service === risk.service));
  const risks = input.risks
    .map((risk): RiskFigures => {
      const estimate = {
        ettdMinutes: risk.ettdMinutes,
        ettrMinutes: risk.ettrMinutes,
        impact: risk.impact,
        ettfDays: risk.ettfDays,
      };
      const effective = withFactors(risk, factors);
      const bad = badMinutesPerYear(effective);
      const shares = slosOf(risk).map((slo) => {
        const budget = yearlyBudgetMinutes(slo.target);
        const share = budget > 0 ? bad / budget : Number.POSITIVE_INFINITY;
        return { slo: slo.id, yearlyBudgetMinutes: budget, share, tooBig: share > tooBigShare };
      });
      return {
        name: risk.name,
        service: risk.service,
        description: risk.description,
        status: risk.status,
        factors: risk.factors,
        estimate,
        effective,
        incidentsPerYear: incidentsPerYear(effective.ettfDays),
        badMinutesPerYear: bad,
        shares,
        tooBig: risk.status !== 'mitigated' && shares.some((s) => s.tooBig),
      };
    })
    .sort((a, b) => b.badMinutesPerYear - a.badMinutesPerYear || a.name.localeCompare(b.name));

  const slos = input.slos
    .map((slo): SloRiskSummary => {
      const live = risks.filter((r) => r.status !== 'mitigated' && r.shares.some((s) => s.slo === slo.id));
      const bad = live.reduce((sum, r) => sum + r.badMinutesPerYear, 0);
      const budget = yearlyBudgetMinutes(slo.target);
      const share = budget > 0 ? bad / budget : bad > 0 ? Number.POSITIVE_INFINITY : 0;
      return {
        slo: slo.id,
        service: slo.service,
        target: slo.target,
        yearlyBudgetMinutes: budget,
        risks: live.map((r) => r.name),
        badMinutesPerYear: bad,
        share,
        achievable: share <= 1,
      };
    })
    .filter((s) => s.risks.length > 0);
  return { tooBigShare, risks, slos };
}

/**
 * A risk's effective estimate after its written estimate changes (an action item done): the
 * factors keep applying — their minutes stay added, their ETTF multiplier stays.
 */
export function effectiveAfter(
  risk: Pick<RiskFigures, 'estimate' | 'effective'>,
  change: Partial<RiskEstimate>,
): RiskEstimate {
  const { estimate, effective } = risk;
  return {
    ettdMinutes: effective.ettdMinutes + (change.ettdMinutes ?? estimate.ettdMinutes) - estimate.ettdMinutes,
    ettrMinutes: effective.ettrMinutes + (change.ettrMinutes ?? estimate.ettrMinutes) - estimate.ettrMinutes,
    impact: change.impact ?? estimate.impact,
    ettfDays: effective.ettfDays * ((change.ettfDays ?? estimate.ettfDays) / estimate.ettfDays),
  };
}

/** The effect of changing a risk's estimate (an action item done): bad minutes before, after, saved. */
export function whatIf(
  estimate: RiskEstimate,
  change: Partial<RiskEstimate>,
): { readonly before: number; readonly after: number; readonly savedMinutesPerYear: number } {
  const before = badMinutesPerYear(estimate);
  const after = badMinutesPerYear({ ...estimate, ...change });
  return { before, after, savedMinutesPerYear: before - after };
}
