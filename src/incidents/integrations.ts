/**
 * `POST /api/v1/integrations/alertmanager`: Alertmanager's webhook receiver. Point a receiver's
 * `webhook_configs.url` at it with an editor token (`http_config.authorization`).
 */
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { readAlerts } from '../alerting/store.js';
import { AppError } from '../platform/errors.js';
import type { App } from '../platform/http/server.js';
import {
  alertEntries,
  alertmanagerPayloadSchema,
  GROUP_KEY_LABEL,
  severityOf,
  titleOf,
} from './alertmanager.js';
import { addAlertEntries, declareIncident, findOpenByLabel, type IncidentDeps } from './service.js';

/** The label that ties an incident to the Shinrai alert it was declared from. */
export const ALERT_LABEL = 'shinrai_alert';

export function integrationRoutes(deps: IncidentDeps) {
  return (app: App) => {
    app.withTypeProvider<ZodTypeProvider>().post(
      '/api/v1/alerts/:id/incident',
      {
        schema: {
          tags: ['incidents'],
          summary:
            'Declare an incident from a firing alert (one call); an open incident already declared from it is returned instead',
          params: z.object({ id: z.string().max(100) }),
          response: { 200: z.object({ incident: z.string(), declared: z.boolean() }) },
        },
      },
      async (request) => {
        const alert = (await readAlerts(deps.db.kysely)).get(request.params.id);
        if (!alert) throw new AppError('NotFound', `no alert with id ${JSON.stringify(request.params.id)}`);
        if (alert.state.phase !== 'firing')
          throw new AppError('Conflict', `alert ${alert.fingerprint} is ${alert.state.phase}, not firing`);
        const existing = await findOpenByLabel(deps, ALERT_LABEL, alert.fingerprint);
        if (existing) return { incident: existing.reference, declared: false };
        const actor = { name: request.principal?.name ?? 'anonymous', source: 'alert' };
        const rates = Object.entries(alert.burnRates)
          .map(([w, r]) => `${w} ${r === null ? '—' : `${r.toFixed(1)}×`}`)
          .join(', ');
        const incident = await declareIncident(
          deps,
          {
            title: `${alert.sloId} is burning its error budget (${alert.rule})`,
            severity: alert.tier === 'page' ? 'SEV2' : 'SEV3',
            services: [alert.service],
            slos: [alert.sloId.split('/')[0]!],
            labels: { [ALERT_LABEL]: alert.fingerprint },
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
              text: `Alert firing: ${alert.rule} of ${alert.sloId} — burn rates ${rates}`,
            },
          ],
          actor,
        );
        return { incident: incident.reference, declared: true };
      },
    );
    app.withTypeProvider<ZodTypeProvider>().post(
      '/api/v1/integrations/alertmanager',
      {
        schema: {
          tags: ['incidents'],
          summary:
            'Alertmanager webhook: one open incident per group key; alerts go on its timeline; a resolution is recorded, never closes it',
          body: alertmanagerPayloadSchema,
          response: {
            200: z.object({
              incident: z
                .string()
                .nullable()
                .describe('the reference, or null for a resolution with no open incident'),
              declared: z.boolean(),
              added: z.number().describe('timeline entries added (a resent notification adds none)'),
            }),
          },
        },
      },
      async (request) => {
        const payload = request.body;
        const actor = { name: request.principal?.name ?? 'alertmanager', source: 'alertmanager' };
        let incident = await findOpenByLabel(deps, GROUP_KEY_LABEL, payload.groupKey);
        let declared = false;
        if (!incident) {
          if (payload.status === 'resolved') return { incident: null, declared: false, added: 0 };
          incident = await declareIncident(
            deps,
            {
              title: titleOf(payload),
              severity: severityOf(payload),
              summary: payload.commonAnnotations.description ?? '',
              services: payload.commonLabels.service ? [payload.commonLabels.service] : [],
              slos: payload.commonLabels.slo ? [payload.commonLabels.slo] : [],
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
      },
    );
  };
}
