/** GET /api/v1/alerts and /api/v1/alerts/{fingerprint} — reads of the live alerts. */
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../platform/db/database.js';
import { AppError } from '../platform/errors.js';
import type { App } from '../platform/http/server.js';
import type { StoredAlert } from './evaluate.js';
import { alertEvents, readAlerts } from './store.js';

const alertSchema = z.object({
  id: z.string().describe('the fingerprint: stable per SLO and rule'),
  slo: z.string(),
  service: z.string(),
  rule: z.string(),
  tier: z.enum(['page', 'ticket']),
  severity: z.string(),
  state: z.enum(['inactive', 'pending', 'firing']),
  observation: z
    .enum(['holds', 'clear', 'no-data'])
    .describe('no-data holds the state: nothing fires or resolves'),
  pendingSince: z.string().nullable(),
  firedAt: z.string().nullable(),
  resolvedAt: z.string().nullable(),
  labels: z.record(z.string(), z.string()),
  annotations: z.record(z.string(), z.string()),
  burnRates: z
    .record(z.string(), z.number().nullable())
    .describe("the rule's windows at the last transition"),
});

function view(a: StoredAlert): z.output<typeof alertSchema> {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: a.fingerprint,
    slo: a.sloId,
    service: a.service,
    rule: a.rule,
    tier: a.tier,
    severity: a.severity,
    state: a.state.phase,
    observation: a.lastObservation,
    pendingSince: iso(a.state.pendingSinceMs),
    firedAt: iso(a.state.firedAtMs),
    resolvedAt: iso(a.resolvedAtMs),
    labels: { ...a.labels },
    annotations: { ...a.annotations },
    burnRates: { ...a.burnRates },
  };
}

export function alertRoutes(deps: { readonly db: Db }) {
  return (app: App) => {
    const api = app.withTypeProvider<ZodTypeProvider>();
    api.get(
      '/api/v1/alerts',
      {
        schema: {
          tags: ['alerts'],
          summary: 'Alerts: firing and pending by default, every known alert with state=all',
          querystring: z.object({ state: z.enum(['firing', 'pending', 'active', 'all']).default('active') }),
          response: { 200: z.array(alertSchema) },
        },
      },
      async (request) => {
        const { state } = request.query;
        const alerts = [...(await readAlerts(deps.db.kysely)).values()].filter((a) =>
          state === 'all'
            ? true
            : state === 'active'
              ? a.state.phase !== 'inactive'
              : a.state.phase === state,
        );
        return alerts
          .sort(
            (a, b) => (b.state.firedAtMs ?? 0) - (a.state.firedAtMs ?? 0) || a.sloId.localeCompare(b.sloId),
          )
          .map(view);
      },
    );
    api.get(
      '/api/v1/alerts/:id',
      {
        schema: {
          tags: ['alerts'],
          summary: 'One alert with its transitions (newest first)',
          params: z.object({ id: z.string() }),
          response: {
            200: alertSchema.extend({
              events: z.array(
                z.object({
                  at: z.string(),
                  transition: z.string(),
                  burnRates: z.record(z.string(), z.number().nullable()),
                }),
              ),
            }),
          },
        },
      },
      async (request) => {
        const alert = (await readAlerts(deps.db.kysely)).get(request.params.id);
        if (!alert) throw new AppError('NotFound', `no alert with id ${JSON.stringify(request.params.id)}`);
        return { ...view(alert), events: await alertEvents(deps.db.kysely, alert.fingerprint) };
      },
    );
  };
}
