/** GET /api/v1/alerts and /api/v1/alerts/{fingerprint} — reads of the live alerts. */
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf } from '../platform/audit/index.js';
import { DAY_MS } from '../platform/dates.js';
import { AppError } from '../platform/errors.js';
import type { App } from '../platform/http/index.js';
import {
  type AlertRouteDeps,
  addSilence,
  endSilence,
  getAlert,
  judgeFiring,
  listAlertEvents,
  listAlerts,
  listSilences,
} from './alert-api.js';
import type { StoredAlert } from './evaluate.js';
import { backtestStored, qualityReport } from './quality-service.js';
import { MAX_MATCHER_REGEX_CHARS, regexProblem, type Silence, silencedBy } from './silences.js';

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
  value: z.string().max(MAX_MATCHER_REGEX_CHARS),
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

export function alertRoutes(deps: AlertRouteDeps) {
  return (app: App) => {
    const api = app.withTypeProvider<ZodTypeProvider>();
    const withSilences = async () => {
      const nowMs = deps.now();
      const silences = await listSilences(deps, nowMs);
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
        // Every state but `all` lists only alerts not inactive (firing, pending, silenced ones).
        const alerts = [...(await listAlerts(deps, { active: state !== 'all' })).values()]
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
        const alert = await getAlert(deps, request.params.id);
        if (!alert) throw new AppError('NotFound', `no alert with id ${JSON.stringify(request.params.id)}`);
        const toView = await withSilences();
        return { ...toView(alert), events: await listAlertEvents(deps, alert.fingerprint) };
      },
    );
    api.post(
      '/api/v1/alerts/:id/feedback',
      {
        schema: {
          tags: ['alerts'],
          summary: "Say whether the alert's latest firing was actionable or noise (the last verdict counts)",
          params: z.object({ id: z.string() }),
          body: z.strictObject({
            verdict: z.enum(['actionable', 'noise']),
            note: z.string().max(2000).default(''),
          }),
          response: {
            200: z.object({ id: z.string(), firedAt: z.string(), verdict: z.enum(['actionable', 'noise']) }),
          },
        },
      },
      async (request) => {
        const alert = await getAlert(deps, request.params.id);
        if (!alert) throw new AppError('NotFound', `no alert with id ${JSON.stringify(request.params.id)}`);
        if (alert.lastFiredAtMs === null)
          throw new AppError(
            'Conflict',
            `alert ${alert.fingerprint} has never fired, so there is nothing to judge yet`,
          );
        const { firedAtMs } = await judgeFiring(
          deps,
          alert,
          {
            verdict: request.body.verdict,
            note: request.body.note,
            by: request.principal?.name ?? 'anonymous',
          },
          deps.now(),
          actorOf(request),
        );
        return {
          id: alert.fingerprint,
          firedAt: new Date(firedAtMs).toISOString(),
          verdict: request.body.verdict,
        };
      },
    );
    api.get(
      '/api/v1/alerts/quality',
      {
        schema: {
          tags: ['alerts'],
          summary:
            'Alert quality per SLO and rule: pages a week, share marked noise, short-lived alerts, time to detect significant burns',
          querystring: z.object({ days: z.coerce.number().int().min(1).max(400).default(28) }),
        },
      },
      async (request) => qualityReport(deps.db, deps.catalog(), deps.now(), request.query.days),
    );
    api.post(
      '/api/v1/slos/:id/backtest',
      {
        config: { expensive: true },
        schema: {
          tags: ['alerts'],
          summary:
            "Replay the SLO's stored minutes through its alert rules: what would have fired, and which significant burns it caught",
          params: z.object({ id: z.string() }),
          body: z
            .strictObject({
              objective: z.string().optional(),
              from: isoTime.optional(),
              to: isoTime.optional(),
              minBudgetShare: z.number().gt(0).max(1).default(0.02),
            })
            .default({ minBudgetShare: 0.02 }),
        },
      },
      async (request) => {
        const nowMs = deps.now();
        const body = request.body;
        const toMs = Math.floor((body.to ? Date.parse(body.to) : nowMs) / 60_000) * 60_000;
        const fromMs = Math.floor((body.from ? Date.parse(body.from) : toMs - 30 * DAY_MS) / 60_000) * 60_000;
        if (!(fromMs < toMs))
          throw new AppError('Invalid', 'from must be before to', [
            { field: 'from', message: 'must be before to' },
          ]);
        if (toMs - fromMs > 400 * DAY_MS)
          throw new AppError('Invalid', 'a backtest covers at most 400 days', [
            { field: 'from', message: 'at most 400 days before to' },
          ]);
        const { target, report } = await backtestStored(
          deps.db,
          deps.catalog(),
          deps.rulesFor,
          deps.minEvents,
          {
            sloId: request.params.id,
            objective: body.objective,
            fromMs,
            toMs,
            minBudgetShare: body.minBudgetShare,
          },
        );
        const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
        return {
          slo: target.id,
          from: new Date(fromMs).toISOString(),
          to: new Date(toMs).toISOString(),
          pagesPerWeek: report.pagesPerWeek,
          ticketsPerWeek: report.ticketsPerWeek,
          alerts: report.alerts.map((a) => ({
            rule: a.rule,
            tier: a.tier,
            firedAt: iso(a.firedAtMs),
            resolvedAt: iso(a.resolvedAtMs),
            peakBurnRate: a.peakBurnRate,
          })),
          events: report.events.map((e) => ({
            start: iso(e.startMs),
            end: iso(e.endMs),
            budgetShare: e.budgetShare,
            detectedBy: e.detectedBy,
          })),
          detectedEvents: report.detectedEvents,
          medianDetectionMinutes: report.medianDetectionMinutes,
        };
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
      async () => (await listSilences(deps, deps.now())).map(silenceView),
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
            ? [
                {
                  field: `matchers.${i}.value`,
                  message: `is not a usable RE2 regular expression: ${problem}`,
                },
              ]
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
        const silence = await addSilence(
          deps,
          { matchers, startsAtMs, endsAtMs, comment, createdBy: request.principal?.name ?? 'anonymous' },
          nowMs,
          actorOf(request),
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
        if (!(await endSilence(deps, request.params.id, deps.now(), actorOf(request))))
          throw new AppError('NotFound', `no current silence with id ${JSON.stringify(request.params.id)}`);
        return reply.code(204).send(null);
      },
    );
  };
}
