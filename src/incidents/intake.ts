/**
 * Incidents declared by integrations: from a firing Shinrai alert (once per alert), and from
 * Alertmanager's webhook (one open incident per group key; alerts once each on its timeline; a
 * resolution is recorded and never closes the incident).
 */
import { readAlerts } from '../alerting/index.js';
import { AppError } from '../platform/errors.js';
import { httpUrls } from '../platform/urls.js';
import {
  type AlertmanagerPayload,
  alertEntries,
  GROUP_KEY_LABEL,
  runbooksOf,
  severityOf,
  titleOf,
} from './alertmanager.js';
import {
  type Actor,
  addAlertEntries,
  type DeclareInput,
  declareIncident,
  findOpenByLabel,
  type IncidentDeps,
  listIncidents,
  severityScale,
} from './service.js';
import { SYSTEM_EVENT_TEXT } from './timeline-text.js';

/** The label that ties an incident to the Shinrai alert it was declared from. */
export const ALERT_LABEL = 'shinrai_alert';

/** The label naming the firing (its start, ISO) an incident was declared from. */
export const ALERT_FIRING_LABEL = 'shinrai_alert_fired_at';

/**
 * Declares an incident from a firing alert, or answers the open one already declared from it.
 * `oncePerFiring` (automatic declaration) also answers an incident of the same firing that people
 * have since closed, so closing it does not bring it back while the alert still fires.
 */
export async function incidentFromAlert(
  deps: IncidentDeps,
  alertId: string,
  actor: Actor,
  options: {
    oncePerFiring?: boolean;
    /** What a person changed in a pre-filled form (Slack's declare modal); the alert fills the rest. */
    overrides?: Partial<Pick<DeclareInput, 'title' | 'severity' | 'summary' | 'services' | 'slos'>>;
  } = {},
): Promise<{ incident: string; declared: boolean }> {
  const alert = (await readAlerts(deps.db.kysely)).get(alertId);
  if (!alert) throw new AppError('NotFound', `no alert with id ${JSON.stringify(alertId)}`);
  if (alert.state.phase !== 'firing')
    throw new AppError('Conflict', `alert ${alert.fingerprint} is ${alert.state.phase}, not firing`);
  const existing = await findOpenByLabel(deps, ALERT_LABEL, alert.fingerprint);
  if (existing) return { incident: existing.reference, declared: false };
  const firedAt = new Date(alert.state.firedAtMs ?? deps.clock.now()).toISOString();
  if (options.oncePerFiring) {
    const earlier = (await listIncidents(deps, {})).find(
      (i) => i.labels[ALERT_LABEL] === alert.fingerprint && i.labels[ALERT_FIRING_LABEL] === firedAt,
    );
    if (earlier) return { incident: earlier.reference, declared: false };
  }
  const rates = Object.entries(alert.burnRates)
    .map(([w, r]) => `${w} ${r === null ? '—' : `${r.toFixed(1)}×`}`)
    .join(', ');
  const sloName = alert.sloId.split('/')[0]!;
  const runbook = deps.catalog?.().slos.find((s) => s.id === sloName)?.shinrai.runbookUrl;
  const incident = await declareIncident(
    deps,
    {
      title: `${alert.sloId} is burning its error budget (${alert.rule})`,
      severity: alert.tier === 'page' ? severityScale(deps).page : severityScale(deps).ticket,
      services: [alert.service],
      slos: [sloName],
      runbooks: httpUrls([runbook]),
      ...Object.fromEntries(Object.entries(options.overrides ?? {}).filter(([, v]) => v !== undefined)),
      labels: { [ALERT_LABEL]: alert.fingerprint, [ALERT_FIRING_LABEL]: firedAt },
      milestones: {
        ...(alert.state.pendingSinceMs !== null ? { impactStartedAt: alert.state.pendingSinceMs } : {}),
        detectedAt: alert.state.firedAtMs ?? deps.clock.now(),
      },
    },
    actor,
  );
  await addAlertEntries(
    deps,
    incident.reference,
    [
      {
        key: `${alert.fingerprint}|firing|${alert.state.firedAtMs}`,
        text: SYSTEM_EVENT_TEXT.alertFiring(alert.rule, alert.sloId, rates),
      },
    ],
    actor,
  );
  return { incident: incident.reference, declared: true };
}

export async function incidentFromAlertmanager(
  deps: IncidentDeps,
  payload: AlertmanagerPayload,
  actor: Actor,
): Promise<{ incident: string | null; declared: boolean; added: number }> {
  let incident = await findOpenByLabel(deps, GROUP_KEY_LABEL, payload.groupKey);
  let declared = false;
  if (!incident) {
    if (payload.status === 'resolved') return { incident: null, declared: false, added: 0 };
    incident = await declareIncident(
      deps,
      {
        title: titleOf(payload),
        severity: severityOf(payload, severityScale(deps)),
        summary: payload.commonAnnotations.description ?? '',
        services: payload.commonLabels.service ? [payload.commonLabels.service] : [],
        slos: payload.commonLabels.slo ? [payload.commonLabels.slo] : [],
        runbooks: runbooksOf(payload),
        labels: {
          [GROUP_KEY_LABEL]: payload.groupKey,
          ...(payload.receiver ? { alertmanager_receiver: payload.receiver } : {}),
        },
      },
      actor,
    );
    declared = true;
  }
  const added = await addAlertEntries(deps, incident.reference, alertEntries(payload), actor);
  return { incident: incident.reference, declared, added };
}
