/**
 * Integration routes: `POST /api/v1/alerts/{id}/incident`, and `POST /api/v1/integrations/alertmanager`
 * (Alertmanager's webhook receiver: point a receiver's `webhook_configs.url` at it with an editor
 * token in `http_config.authorization`). The logic is in intake.ts.
 */
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf } from '../platform/audit/index.js';
import type { App } from '../platform/http/index.js';
import { alertmanagerPayloadSchema } from './alertmanager.js';
import { incidentFromAlert, incidentFromAlertmanager } from './intake.js';
import type { IncidentDeps } from './service.js';

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
        return incidentFromAlert(deps, request.params.id, {
          name: request.principal?.name ?? 'anonymous',
          source: 'alert',
          audit: actorOf(request),
        });
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
        return incidentFromAlertmanager(deps, request.body, {
          name: request.principal?.name ?? 'alertmanager',
          source: 'alertmanager',
          // Audited: the incidents it declares. Alert lines on a timeline are not (every resend).
          audit: actorOf(request),
        });
      },
    );
  };
}
