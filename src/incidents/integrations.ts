/**
 * `POST /api/v1/integrations/alertmanager`: Alertmanager's webhook receiver. Point a receiver's
 * `webhook_configs.url` at it with an editor token (`http_config.authorization`).
 */
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { App } from '../platform/http/server.js';
import {
  alertEntries,
  alertmanagerPayloadSchema,
  GROUP_KEY_LABEL,
  severityOf,
  titleOf,
} from './alertmanager.js';
import { addAlertEntries, declareIncident, findOpenByLabel, type IncidentDeps } from './service.js';

export function integrationRoutes(deps: IncidentDeps) {
  return (app: App) => {
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
