/** The risk catalog as the API shows it: the analysis, each risk with the action items that reduce it. */
import { listActionItems } from '../incidents/action-item-service.js';
import type { IncidentDeps } from '../incidents/service.js';
import type { Catalog } from '../slo/model.js';
import { savedMinutesOf } from './backlog.js';
import { catalogRiskAnalysis } from './catalog.js';

export async function riskCatalogView(
  deps: IncidentDeps,
  catalog: Catalog,
  options: { readonly tooBigShare: number; readonly service?: string | undefined },
) {
  const analysis = catalogRiskAnalysis(catalog, options);
  const items = (await listActionItems(deps)).filter((item) => item.risk !== undefined);
  return {
    ...analysis,
    risks: analysis.risks.map((risk) => ({
      ...risk,
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
