/** The risk catalog as the API shows it: the analysis, each risk with the action items that reduce it. */
import { listActionItems } from '../incidents/action-item-service.js';
import type { IncidentDeps } from '../incidents/service.js';
import type { Catalog, SourceLocation } from '../slo/model.js';
import { UPLOAD_PREFIX } from '../slo/spec-store.js';
import { savedMinutesOf } from './backlog.js';
import { catalogRiskAnalysis } from './catalog.js';
import { managedRiskPath } from './risk-service.js';

export async function riskCatalogView(
  deps: IncidentDeps,
  catalog: Catalog,
  options: { readonly tooBigShare: number; readonly service?: string | undefined },
) {
  const analysis = catalogRiskAnalysis(catalog, options);
  const items = (await listActionItems(deps)).filter((item) => item.risk !== undefined);
  const locationOf = new Map((catalog.risks ?? []).map((r) => [r.name, r.location]));
  return {
    ...analysis,
    risks: analysis.risks.map((risk) => ({
      ...risk,
      source: sourceOf(locationOf.get(risk.name)),
      managed: locationOf.get(risk.name)?.file === `${UPLOAD_PREFIX}${managedRiskPath(risk.name)}`,
      actionItems: items
        .filter((item) => item.risk === risk.name)
        .map((item) => ({
          id: item.id,
          postmortemId: item.postmortemId,
          title: item.title,
          priority: item.priority,
          status: item.status,
          owner: item.owner,
          dueDate: item.dueDate,
          savedMinutesPerYear: savedMinutesOf(risk, item),
        })),
    })),
  };
}

function sourceOf(location: SourceLocation | undefined): string {
  return location ? `${location.file}:${location.line}` : '';
}
