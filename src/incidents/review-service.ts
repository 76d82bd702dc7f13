/** The periodic review over the database: the period's incidents with their budget impact, postmortems and action items. */

import type { Catalog } from '../slo/index.js';
import { evaluationTargets } from '../slo/index.js';
import { listActionItems } from './action-item-service.js';
import { budgetImpact } from './impact.js';
import { listPostmortems } from './postmortems.js';
import { buildReview, type Review } from './review.js';
import { type IncidentDeps, listIncidents, severityScale } from './service.js';

export async function periodicReview(
  deps: IncidentDeps,
  catalog: Catalog,
  period: { fromMs: number; toMs: number; today: string },
): Promise<Review> {
  const inPeriod = (await listIncidents(deps, {})).filter(
    (i) =>
      i.createdAtMs >= period.fromMs && i.createdAtMs < period.toMs && !i.drill && i.status !== 'cancelled',
  );
  const incidents = [];
  for (const incident of inPeriod)
    incidents.push({ incident, impact: await budgetImpact(deps, catalog, incident) });
  return buildReview({
    ...period,
    severities: severityScale(deps),
    incidents,
    postmortems: await listPostmortems(deps),
    actionItems: await listActionItems(deps),
    serviceOfSlo: new Map(evaluationTargets(catalog).map((t) => [t.id, t.slo.service])),
  });
}
