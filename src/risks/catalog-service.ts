/** The risk catalog as the API shows it: the analysis, each risk with the action items that reduce it. */

import type { IncidentDeps } from '../incidents/index.js';
import { listActionItems } from '../incidents/index.js';
import { AppError } from '../platform/errors.js';
import type { Catalog, SourceLocation } from '../slo/index.js';
import { savedMinutesOf } from './backlog.js';
import { catalogRiskAnalysis } from './catalog.js';
import { isManagedRisk } from './risk-service.js';

export async function riskCatalogView(
  deps: IncidentDeps,
  catalog: Catalog,
  options: { readonly tooBigShare: number; readonly service?: string | undefined },
) {
  const analysis = catalogRiskAnalysis(catalog, options);
  const items = (await listActionItems(deps)).filter((item) => item.risk !== undefined);
  const written = new Map((catalog.risks ?? []).map((r) => [r.name, r]));
  return {
    ...analysis,
    risks: analysis.risks.map((risk) => ({
      ...risk,
      source: sourceOf(written.get(risk.name)?.location),
      managed: written.has(risk.name) && isManagedRisk(written.get(risk.name)!),
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

/** One risk's row of the view, as a write through the API answers it. */
export async function riskCatalogRow(
  deps: IncidentDeps,
  catalog: Catalog,
  options: { readonly tooBigShare: number },
  name: string,
) {
  const row = (await riskCatalogView(deps, catalog, options)).risks.find((r) => r.name === name);
  if (!row) throw new AppError('Unavailable', 'the risk was stored but the specs have not reloaded yet');
  return row;
}

function sourceOf(location: SourceLocation | undefined): string {
  return location ? `${location.file}:${location.line}` : '';
}
