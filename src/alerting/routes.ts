/** GET /api/v1/alerts and /api/v1/alerts/{fingerprint} — reads of the live alerts. */
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../platform/db/database.js';
import { AppError } from '../platform/errors.js';
import type { App } from '../platform/http/server.js';
import type { StoredAlert } from './evaluate.js';
import {
  createSilence,
  expireSilence,
  readSilences,
  regexProblem,
  type Silence,
  silencedBy,
} from './silences.js';
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
  silencedBy: z.array(z.string()).describe('ids of the silences that mute its notifications now'),
});

const matcherSchema = z.strictObject({
  label: z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'must be a label name such as slo or severity'),
  value: z.string().max(1000),
  regex: z.boolean().optional(),
});

const silenceSchema = z.object({
  id: z.string(),
  matchers: z.array(matcherSchema),
  startsAt: z.string(),
  endsAt: z.string(),
  comment: z.string(),
  createdBy: z.string(),
  createdAt: z.string(),
});

function silenceView(s: Silence): z.output<typeof silenceSchema> {
  return {
    id: s.id,
    matchers: s.matchers.map((m) => ({ ...m })),
    startsAt: new Date(s.startsAtMs).toISOString(),
    endsAt: new Date(s.endsAtMs).toISOString(),
    comment: s.comment,
    createdBy: s.createdBy,
    createdAt: new Date(s.createdAtMs).toISOString(),
  };
}

const isoTime = z.iso.datetime({ offset: true }).describe('ISO 8601 time');

function view(a: StoredAlert, silencedByIds: string[]): z.output<typeof alertSchema> {
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
    silencedBy: silencedByIds,
  };
}

export function alertRoutes(deps: { readonly db: Db; readonly now: () => number }) {
  return (app: App) => {
    const api = app.withTypeProvider<ZodTypeProvider>();
    const withSilences = async () => {
      const nowMs = deps.now();
      const silences = await readSilences(deps.db.kysely, nowMs);
      return (a: StoredAlert) => view(a, silencedBy(silences, a.labels, nowMs));
    };
    api.get(
      '/api/v1/alerts',
      {
        schema: {
          tags: ['alerts'],
          summary:
            'Alerts: firing and pending by default; silenced ones, or every known alert with state=all',
          querystring: z.object({
            state: z.enum(['firing', 'pending', 'active', 'silenced', 'all']).default('active'),
          }),
          response: { 200: z.array(alertSchema) },
        },
      },
      async (request) => {
        const { state } = request.query;
        const toView = await withSilences();
        const alerts = [...(await readAlerts(deps.db.kysely)).values()]
          .sort(
            (a, b) => (b.state.firedAtMs ?? 0) - (a.state.firedAtMs ?? 0) || a.sloId.localeCompare(b.sloId),
          )
          .map(toView);
        return alerts.filter((a) =>
          state === 'all'
            ? true
            : state === 'silenced'
              ? a.state !== 'inactive' && a.silencedBy.length > 0
              : state === 'active'
                ? a.state !== 'inactive'
                : a.state === state,
        );
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
        const toView = await withSilences();
        return { ...toView(alert), events: await alertEvents(deps.db.kysely, alert.fingerprint) };
      },
    );
    api.get(
      '/api/v1/silences',
      {
        schema: {
          tags: ['alerts'],
          summary: 'Silences that have not ended',
          response: { 200: z.array(silenceSchema) },
        },
      },
      async () => (await readSilences(deps.db.kysely, deps.now())).map(silenceView),
    );
    api.post(
      '/api/v1/silences',
      {
        schema: {
          tags: ['alerts'],
          summary:
            'Silence the notifications of alerts whose labels match, from startsAt (default now) to endsAt',
          body: z.strictObject({
            matchers: z.array(matcherSchema).min(1).max(20),
            startsAt: isoTime.optional(),
            endsAt: isoTime,
            comment: z.string().min(1).max(2000),
          }),
          response: { 201: silenceSchema },
        },
      },
      async (request, reply) => {
        const nowMs = deps.now();
        const { matchers, comment } = request.body;
        const startsAtMs = request.body.startsAt ? Date.parse(request.body.startsAt) : nowMs;
        const endsAtMs = Date.parse(request.body.endsAt);
        const problems = matchers.flatMap((m, i) => {
          const problem = m.regex ? regexProblem(m.value) : undefined;
          return problem
            ? [{ field: `matchers.${i}.value`, message: `is not a regular expression: ${problem}` }]
            : [];
        });
        if (endsAtMs <= nowMs) problems.push({ field: 'endsAt', message: 'is in the past' });
        else if (endsAtMs <= startsAtMs)
          problems.push({ field: 'endsAt', message: 'must be after startsAt' });
        if (problems.length)
          throw new AppError(
            'Invalid',
            `the silence is invalid: ${problems.map((p) => `${p.field} ${p.message}`).join('; ')}`,
            problems,
          );
        const silence = await createSilence(
          deps.db.kysely,
          { matchers, startsAtMs, endsAtMs, comment, createdBy: request.principal?.name ?? 'anonymous' },
          nowMs,
        );
        return reply.code(201).send(silenceView(silence));
      },
    );
    api.delete(
      '/api/v1/silences/:id',
      {
        schema: {
          tags: ['alerts'],
          summary: 'End a silence now',
          params: z.object({ id: z.string() }),
          response: { 204: z.null() },
        },
      },
      async (request, reply) => {
        if (!(await expireSilence(deps.db.kysely, request.params.id, deps.now())))
          throw new AppError('NotFound', `no current silence with id ${JSON.stringify(request.params.id)}`);
        return reply.code(204).send(null);
      },
    );
  };
}
