/**
 * What a write to an incident, a postmortem or an action item touches (its incidents' services and
 * SLOs), for team-scoped permissions; undefined when the target does not exist (the write answers 404).
 */
import { AppError } from '../platform/errors.js';
import { getActionItem } from './action-item-service.js';
import type { AlertmanagerPayload } from './alertmanager.js';
import { GROUP_KEY_LABEL } from './alertmanager.js';
import { getPostmortem } from './postmortems.js';
import { findOpenByLabel, getIncident, type IncidentDeps } from './service.js';

export interface Touched {
  readonly services: readonly string[];
  readonly slos: readonly string[];
}

async function orMissing<T>(read: Promise<T>): Promise<T | undefined> {
  try {
    return await read;
  } catch (error) {
    if (error instanceof AppError && error.code === 'NotFound') return undefined;
    throw error;
  }
}

async function incidentsTouch(deps: IncidentDeps, refs: readonly string[]): Promise<Touched> {
  const services: string[] = [];
  const slos: string[] = [];
  for (const ref of refs) {
    const found = await orMissing(getIncident(deps, ref));
    services.push(...(found?.incident.services ?? []));
    slos.push(...(found?.incident.slos ?? []));
  }
  return { services, slos };
}

export async function incidentTouches(deps: IncidentDeps, ref: string): Promise<Touched | undefined> {
  const found = await orMissing(getIncident(deps, ref));
  return found && { services: found.incident.services, slos: found.incident.slos };
}

export async function postmortemTouches(deps: IncidentDeps, id: string): Promise<Touched | undefined> {
  const postmortem = await orMissing(getPostmortem(deps, id));
  return postmortem && incidentsTouch(deps, postmortem.incidents);
}

export async function actionItemTouches(deps: IncidentDeps, id: string): Promise<Touched | undefined> {
  const item = await orMissing(getActionItem(deps, id));
  return item && postmortemTouches(deps, item.postmortemId);
}

/**
 * What an Alertmanager notification touches: the `service` and `slo` labels of the group and of
 * each alert (intake.ts declares with the group's; each alert's lands on the timeline), and the
 * services of the open incident it would add to.
 */
export async function alertmanagerTouches(
  deps: IncidentDeps,
  payload: AlertmanagerPayload,
): Promise<Touched> {
  const labels = [payload.commonLabels, payload.groupLabels, ...payload.alerts.map((a) => a.labels)];
  const open = await findOpenByLabel(deps, GROUP_KEY_LABEL, payload.groupKey);
  return {
    services: [...labels.flatMap((l) => (l.service ? [l.service] : [])), ...(open?.services ?? [])],
    slos: [...labels.flatMap((l) => (l.slo ? [l.slo] : [])), ...(open?.slos ?? [])],
  };
}
