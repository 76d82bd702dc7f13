/** /api/v1/incidents — declare, read, change, and add notes; thin over the incident service. */
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf as auditScopeOf, type RequestLike } from '../platform/audit/index.js';
import type { App } from '../platform/http/index.js';
import { httpUrl } from '../platform/urls.js';
import type { Catalog } from '../slo/index.js';
import { catchUpSummary } from './catchup.js';
import { type BudgetImpact, budgetImpact, POSTMORTEM_REQUIRED_SHARE, suggestImpactStart } from './impact.js';
import { writeUpLanguageQuery } from './language.js';
import type { CatchUpWriter } from './llm.js';
import { responseMetrics } from './metrics.js';
import { MAX_RUNBOOKS, MILESTONES, STATUSES } from './model.js';
import {
  addNote,
  changeIncident,
  declareIncident,
  getIncident,
  type Incident,
  type IncidentDeps,
  listIncidents,
  markEvent,
  severityScale,
  type TimelineEvent,
} from './service.js';

const isoTime = z.iso.datetime({ offset: true });
const name = z.string().min(1).max(200);
const milestonesIn = z.partialRecord(z.enum(MILESTONES), isoTime.nullable());

const incidentSchema = z.object({
  id: z.string(),
  reference: z.string(),
  title: z.string(),
  summary: z.string(),
  severity: z.string(),
  status: z.enum(STATUSES),
  services: z.array(z.string()),
  slos: z.array(z.string()),
  labels: z.record(z.string(), z.string()),
  rootCause: z.string().optional(),
  drill: z.boolean(),
  runbooks: z.array(z.string()),
  milestones: z.partialRecord(z.enum(MILESTONES), z.string()),
  roles: z
    .record(z.string(), z.string())
    .describe('role → person (commander, communications, operations, scribe, custom)'),
  causedBy: z
    .object({
      deployment: z.string().optional(),
      commit: z.string().optional(),
      confirmedBy: z.string(),
      confirmedAt: z.string(),
    })
    .optional()
    .describe(
      'the confirmed cause: a deployment (id) or a commit (sha); only confirmed causes count in DORA metrics',
    ),
  createdAt: z.string(),
  updatedAt: z.string(),
});

const eventSchema = z.object({
  id: z.string(),
  at: z.string(),
  kind: z.string(),
  source: z.string(),
  actor: z.string(),
  text: z.string(),
  starred: z.boolean(),
  public: z.boolean(),
});

const incidentDetailSchema = incidentSchema.extend({
  timeline: z.array(eventSchema),
  budgetImpact: z.array(
    z.object({
      slo: z.string().describe('the evaluation target: an SLO id, or slo/objective'),
      from: z.string(),
      to: z.string(),
      unit: z.enum(['events', 'minutes']),
      consumed: z.number().describe('bad events, or bad minutes for time-slice SLOs, within from–to'),
      shareOfBudget: z.number().nullable().describe("consumed as a share of the period's whole budget"),
    }),
  ),
  requiresPostmortem: z.boolean(),
  suggestedImpactStart: z.array(z.object({ slo: z.string(), impactStartedAt: z.string().nullable() })),
  catchUp: z.string().describe('plain text: show it as text, never as HTML'),
});

const iso = (ms: number) => new Date(ms).toISOString();

function view(i: Incident): z.output<typeof incidentSchema> {
  const { createdAtMs, updatedAtMs, milestones, number: _, causedBy, ...rest } = i;
  return {
    ...rest,
    ...(causedBy
      ? {
          causedBy: {
            ...(causedBy.deployment === undefined ? {} : { deployment: causedBy.deployment }),
            ...(causedBy.commit === undefined ? {} : { commit: causedBy.commit }),
            confirmedBy: causedBy.confirmedBy,
            confirmedAt: iso(causedBy.confirmedAtMs),
          },
        }
      : {}),
    services: [...i.services],
    slos: [...i.slos],
    labels: { ...i.labels },
    runbooks: [...i.runbooks],
    milestones: Object.fromEntries(Object.entries(milestones).map(([k, v]) => [k, iso(v)])),
    roles: { ...i.roles },
    createdAt: iso(createdAtMs),
    updatedAt: iso(updatedAtMs),
  };
}

function eventView(e: TimelineEvent): z.output<typeof eventSchema> {
  const { atMs, ...rest } = e;
  return { ...rest, at: iso(atMs) };
}

/** Milestones from the API (ISO or null) to the service (ms or null). */
function milestonesMs(input: Partial<Record<string, string | null>> | undefined) {
  if (!input) return undefined;
  return Object.fromEntries(
    Object.entries(input).map(([k, v]) => [k, v === null || v === undefined ? null : Date.parse(v)]),
  );
}

export function incidentRoutes(
  deps: IncidentDeps & {
    readonly catalog: () => Catalog;
    /** Rewords catch-up summaries when an LLM endpoint is configured. */
    readonly catchUpWriter?: CatchUpWriter | undefined;
    /** The team's IANA zone, for times in Japanese write-ups. */
    readonly timeZone?: string | undefined;
  },
) {
  return (app: App) => {
    const api = app.withTypeProvider<ZodTypeProvider>();
    // The configured scale, so the OpenAPI document lists the severities this server takes.
    const severity = z.enum(severityScale(deps).names as [string, ...string[]]);
    const actorOf = (request: RequestLike) => ({
      name: request.principal?.name ?? 'anonymous',
      source: 'api',
      audit: auditScopeOf(request),
    });

    api.post(
      '/api/v1/incidents',
      {
        schema: {
          tags: ['incidents'],
          summary: 'Declare an incident',
          body: z.strictObject({
            title: name,
            severity: severity,
            summary: z.string().max(20_000).optional(),
            services: z.array(name).max(50).optional(),
            slos: z.array(name).max(50).optional(),
            labels: z.record(z.string().max(100), z.string().max(500)).optional(),
            drill: z.boolean().optional(),
            runbooks: z.array(httpUrl).max(MAX_RUNBOOKS).optional(),
            milestones: z.partialRecord(z.enum(MILESTONES), isoTime).optional(),
          }),
          response: { 201: incidentSchema },
        },
      },
      async (request, reply) => {
        const { milestones, ...body } = request.body;
        const incident = await declareIncident(
          deps,
          {
            ...body,
            milestones: milestones ? (milestonesMs(milestones) as Record<string, number>) : undefined,
          },
          actorOf(request),
        );
        return reply.code(201).send(view(incident));
      },
    );

    api.get(
      '/api/v1/incidents',
      {
        schema: {
          tags: ['incidents'],
          summary: 'Incidents, newest first (open ones only with state=open)',
          querystring: z.object({ state: z.enum(['open', 'all']).default('all') }),
          response: { 200: z.array(incidentSchema) },
        },
      },
      async (request) => (await listIncidents(deps, { open: request.query.state === 'open' })).map(view),
    );

    api.get(
      '/api/v1/incidents/metrics',
      {
        schema: {
          tags: ['incidents'],
          summary: 'TTD, TTA, TTM and TTR (count, median, p90 in minutes) of incidents declared in a period',
          querystring: z.object({
            from: isoTime.optional(),
            to: isoTime.optional(),
            service: z.string().optional(),
            severity: severity.optional(),
          }),
        },
      },
      async (request) => {
        const q = request.query;
        const toMs = q.to ? Date.parse(q.to) : deps.clock.now();
        const fromMs = q.from ? Date.parse(q.from) : toMs - 90 * 86_400_000;
        const incidents = (await listIncidents(deps, {})).filter(
          (i) =>
            i.createdAtMs >= fromMs &&
            i.createdAtMs < toMs &&
            (!q.service || i.services.includes(q.service)) &&
            (!q.severity || i.severity === q.severity),
        );
        return { from: iso(fromMs), to: iso(toMs), ...responseMetrics(incidents) };
      },
    );

    api.get(
      '/api/v1/incidents/:ref',
      {
        schema: {
          tags: ['incidents'],
          summary: 'One incident (INC-42) with its timeline and the error budget it consumed per linked SLO',
          params: z.object({ ref: z.string().max(100) }),
          querystring: z.object({ lang: writeUpLanguageQuery.describe('language of catchUp: en or ja') }),
          response: { 200: incidentDetailSchema },
        },
      },
      async (request) => {
        const { incident, timeline } = await getIncident(deps, request.params.ref);
        const impact: BudgetImpact[] = await budgetImpact(deps, deps.catalog(), incident);
        const suggested = await suggestImpactStart(deps, deps.catalog(), incident);
        return {
          ...view(incident),
          timeline: timeline.map(eventView),
          budgetImpact: impact,
          requiresPostmortem: impact.some((i) => (i.shareOfBudget ?? 0) > POSTMORTEM_REQUIRED_SHARE),
          suggestedImpactStart: suggested,
          catchUp: catchUpSummary(incident, timeline, impact, deps.clock.now(), {
            language: request.query.lang,
            timeZone: deps.timeZone,
          }),
        };
      },
    );

    api.get(
      '/api/v1/incidents/:ref/catch-up',
      {
        schema: {
          tags: ['incidents'],
          summary:
            'Catch-up for a late joiner: the deterministic summary, reworded by the configured LLM when there is one',
          params: z.object({ ref: z.string().max(100) }),
          querystring: z.object({ lang: writeUpLanguageQuery }),
          response: {
            200: z.object({
              text: z.string().describe('plain text: show it as text, never as HTML'),
              source: z.enum(['llm', 'timeline']),
              model: z.string().optional(),
              llmError: z.string().optional().describe('why the LLM wording is not served'),
              facts: z.string().describe('the deterministic summary the wording is based on'),
            }),
          },
        },
      },
      async (request) => {
        const { incident, timeline } = await getIncident(deps, request.params.ref);
        const impact = await budgetImpact(deps, deps.catalog(), incident);
        // The facts are written in the language asked for, and the model is asked for it too.
        const facts = catchUpSummary(incident, timeline, impact, deps.clock.now(), {
          language: request.query.lang,
          timeZone: deps.timeZone,
        });
        if (!deps.catchUpWriter) return { text: facts, source: 'timeline' as const, facts };
        return { ...(await deps.catchUpWriter.write(facts, timeline, request.query.lang)), facts };
      },
    );

    api.patch(
      '/api/v1/incidents/:ref',
      {
        schema: {
          tags: ['incidents'],
          summary: 'Change status, severity, milestones or fields; each change lands on the timeline',
          params: z.object({ ref: z.string().max(100) }),
          body: z.strictObject({
            status: z.enum(STATUSES).optional(),
            severity: severity.optional(),
            title: name.optional(),
            summary: z.string().max(20_000).optional(),
            rootCause: z.string().max(200).optional(),
            labels: z
              .record(z.string().max(100), z.string().max(500).nullable())
              .optional()
              .describe(
                'labels to set, or null to remove one (e.g. risk: db-failover-manual links a catalog risk)',
              ),
            services: z.array(name).max(50).optional(),
            slos: z.array(name).max(50).optional(),
            milestones: milestonesIn.optional(),
            roles: z
              .record(
                z.string().regex(/^[a-z][a-z0-9-]{0,39}$/, 'must be a role name such as commander'),
                name.nullable(),
              )
              .optional(),
            causedBy: z
              .union([
                z.strictObject({ deployment: z.string().min(1).max(300) }),
                z.strictObject({ commit: z.string().regex(/^[0-9a-f]{4,64}$/i, 'a commit sha (hex)') }),
              ])
              .nullable()
              .optional()
              .describe('confirm what caused it (a deployment id or a commit sha), or null to remove it'),
          }),
          response: { 200: incidentSchema },
        },
      },
      async (request) => {
        const { milestones, ...body } = request.body;
        return view(
          await changeIncident(
            deps,
            request.params.ref,
            { ...body, milestones: milestonesMs(milestones) },
            actorOf(request),
          ),
        );
      },
    );

    api.post(
      '/api/v1/incidents/:ref/notes',
      {
        schema: {
          tags: ['incidents'],
          summary:
            'Add a note to the timeline (starred notes make the postmortem timeline, public ones the status page)',
          params: z.object({ ref: z.string().max(100) }),
          body: z.strictObject({
            text: z.string().min(1).max(20_000),
            starred: z.boolean().optional(),
            public: z.boolean().optional(),
          }),
          response: { 201: eventSchema },
        },
      },
      async (request, reply) => {
        const event = await addNote(deps, request.params.ref, request.body, actorOf(request));
        return reply.code(201).send(eventView(event));
      },
    );

    api.patch(
      '/api/v1/incidents/:ref/events/:eventId',
      {
        schema: {
          tags: ['incidents'],
          summary: 'Star a timeline event (postmortem timeline) or mark it public (status page)',
          params: z.object({ ref: z.string().max(100), eventId: z.string().max(100) }),
          body: z.strictObject({ starred: z.boolean().optional(), public: z.boolean().optional() }),
          response: { 200: eventSchema },
        },
      },
      async (request) =>
        eventView(
          await markEvent(
            deps,
            request.params.ref,
            request.params.eventId,
            request.body,
            auditScopeOf(request),
          ),
        ),
    );
  };
}
