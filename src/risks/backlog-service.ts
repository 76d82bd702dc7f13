/** The reliability backlog over the database: open action items (with their postmortems' services) and the risk catalog. */
import { type IncidentDeps, listActionItems, listIncidents, listPostmortems } from '../incidents/index.js';
import type { Catalog } from '../slo/index.js';
import { buildBacklog, type ServiceBacklog } from './backlog.js';
import { catalogRiskAnalysis } from './catalog.js';

export async function reliabilityBacklog(
  deps: IncidentDeps,
  catalog: Catalog,
  options: { readonly tooBigShare: number; readonly service?: string | undefined },
): Promise<ServiceBacklog[]> {
  const servicesOfIncident = new Map((await listIncidents(deps, {})).map((i) => [i.reference, i.services]));
  const incidentsOfPostmortem = new Map((await listPostmortems(deps)).map((p) => [p.id, p.incidents]));
  const backlog = buildBacklog({
    analysis: catalogRiskAnalysis(catalog, { tooBigShare: options.tooBigShare }),
    items: await listActionItems(deps, { status: 'open' }),
    servicesOf: (item) => [
      ...new Set(
        (incidentsOfPostmortem.get(item.postmortemId) ?? []).flatMap(
          (ref) => servicesOfIncident.get(ref) ?? [],
        ),
      ),
    ],
  });
  return options.service === undefined ? backlog : backlog.filter((s) => s.service === options.service);
}
