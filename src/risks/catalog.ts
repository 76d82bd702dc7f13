/** The risk analysis of a loaded catalog: its Risk and RiskFactor objects against its SLOs. */
import type { Catalog } from '../slo/index.js';
import { analyseRisks, type RiskAnalysis, type RiskSlo } from './analysis.js';

/** Each SLO with its strictest objective's target (the budget a risk must fit into). */
export function riskSlos(catalog: Catalog): RiskSlo[] {
  return catalog.slos
    .filter((slo) => slo.objectives.length > 0)
    .map((slo) => ({
      id: slo.id,
      service: slo.service,
      target: Math.max(...slo.objectives.map((o) => o.target)),
    }));
}

export function catalogRiskAnalysis(
  catalog: Catalog,
  options: { readonly tooBigShare?: number | undefined; readonly service?: string | undefined } = {},
): RiskAnalysis {
  const keep = <T extends { readonly service: string }>(items: readonly T[]) =>
    options.service === undefined ? items : items.filter((i) => i.service === options.service);
  return analyseRisks(
    { risks: keep(catalog.risks ?? []), factors: catalog.riskFactors ?? [], slos: keep(riskSlos(catalog)) },
    { tooBigShare: options.tooBigShare },
  );
}
