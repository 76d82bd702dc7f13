/** Deployments over HTTP: record one (idempotent), list them with their budget impact, and an incident's suspects. */
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { DateTime } from 'luxon';
import { z } from 'zod';
import { actorOf } from '../platform/audit/index.js';
import { AppError } from '../platform/errors.js';
import type { App } from '../platform/http/index.js';
import { type DeploymentWithImpact, deploymentImpact, deploymentsWithImpact } from './impact.js';
import { BENCHMARK_YEARS, LEVEL_NAMES } from './levels.js';
import type { DeliveryMetrics } from './metrics.js';
import { deliveryMetrics } from './metrics-service.js';
import { DEPLOYMENT_KINDS, DEPLOYMENT_STATUSES, type RecordDeploymentInput } from './model.js';
import {
  type DeliveryDeps,
  getDeployment,
  recordDeployment,
  recordDeployments,
  type StoredDeployment,
  servicesOfTeam,
  suspects,
} from './service.js';

const isoTime = z.iso.datetime({ offset: true });
const name = z.string().trim().min(1).max(200);
const sha = z.string().regex(/^[0-9a-f]{4,64}$/i, 'a commit sha (hex)');
const iso = (ms: number) => new Date(ms).toISOString();
/** Deployment ids: printable ASCII, so they travel in URLs and headers unchanged. */
const deploymentId = z
  .string()
  .min(1)
  .max(300)
  .regex(/^[\x21-\x7e]+$/, '1–300 printable ASCII characters without spaces');

const deploymentSchema = z.object({
  id: z.string(),
  service: z.string(),
  environment: z.string(),
  production: z
    .boolean()
    .describe("true when the environment is the service's production (delivery.production)"),
  version: z.string().optional(),
  headSha: z.string().optional(),
  startedAt: z.string().optional(),
  finishedAt: z.string(),
  status: z.enum(DEPLOYMENT_STATUSES),
  kind: z.enum(DEPLOYMENT_KINDS),
  url: z.string().optional(),
  fixes: z.array(z.string()).describe('ids of the incidents it was shipped to fix'),
  source: z.string().describe('api, cli, gate, github, gitlab or webhook'),
  changes: z.number().int().describe('changes (commits) it shipped'),
  gate: z
    .object({ decision: z.enum(['allow', 'warn', 'deny']), summary: z.string(), at: z.string() })
    .optional()
    .describe("the deploy gate's answer for the service when the deployment was recorded"),
  createdAt: z.string(),
  updatedAt: z.string(),
});

const burnSchema = z.object({
  consumed: z.number().describe('bad events, or bad minutes for time-slice SLOs'),
  burnRate: z.number().nullable(),
  shareOfBudget: z
    .number()
    .nullable()
    .describe("burnRate × interval ÷ period: the share of the period's budget"),
});

const impactSchema = deploymentSchema.extend({
  failed: z
    .boolean()
    .describe('rolled back, confirmed as an incident cause, or followed by a hotfix or rollback'),
  causedIncidents: z.array(z.string()).describe('references of the incidents it caused (confirmed)'),
  budget: z.array(
    z.object({
      slo: z.string(),
      unit: z.enum(['events', 'minutes']),
      before: burnSchema.describe('the delivery.afterHours before the deployment finished'),
      after: burnSchema.describe('the delivery.afterHours after it'),
      burnRateChange: z.number().nullable(),
    }),
  ),
});

export function deploymentView(d: StoredDeployment): z.output<typeof deploymentSchema> {
  return {
    id: d.id,
    service: d.service,
    environment: d.environment,
    production: d.production,
    ...(d.version === undefined ? {} : { version: d.version }),
    ...(d.headSha === undefined ? {} : { headSha: d.headSha }),
    ...(d.startedAtMs === undefined ? {} : { startedAt: iso(d.startedAtMs) }),
    finishedAt: iso(d.finishedAtMs),
    status: d.status,
    kind: d.kind,
    ...(d.url === undefined ? {} : { url: d.url }),
    fixes: [...d.fixes],
    source: d.source,
    changes: d.changeCount,
    ...(d.gate ? { gate: { decision: d.gate.decision, summary: d.gate.summary, at: iso(d.gate.atMs) } } : {}),
    createdAt: iso(d.createdAtMs),
    updatedAt: iso(d.updatedAtMs),
  };
}

function impactView(item: DeploymentWithImpact): z.output<typeof impactSchema> {
  return {
    ...deploymentView(item.deployment),
    failed: item.failed,
    causedIncidents: [...item.causedIncidents],
    budget: item.budget.map((b) => ({ ...b, before: { ...b.before }, after: { ...b.after } })),
  };
}

/** The body of POST /api/v1/deployments (also what the generic webhook maps onto). */
export const deploymentBodySchema = z.strictObject({
  id: deploymentId.optional().describe('your id for the deployment: the same id again updates it'),
  service: name,
  environment: name,
  version: z.string().max(200).optional(),
  commits: z
    .array(
      z.strictObject({
        sha,
        timestamp: isoTime.describe('the commit time: lead time is measured from it'),
        author: z.string().max(200).optional(),
        message: z.string().max(2_000).optional(),
      }),
    )
    .max(10_000)
    .optional(),
  headSha: sha.optional(),
  startedAt: isoTime.optional(),
  finishedAt: isoTime,
  status: z.enum(DEPLOYMENT_STATUSES),
  kind: z.enum(DEPLOYMENT_KINDS).optional(),
  url: z
    .url({ protocol: /^https?$/ })
    .max(2_000)
    .optional(),
  fixes: z.array(z.string().min(1).max(100)).max(50).optional().describe('incidents it fixes (INC-12)'),
});

const levelSchema = z
  .object({ name: z.enum(LEVEL_NAMES), label: z.string() })
  .nullable()
  .describe('the DORA performance level in the benchmark table; null when the table has none for the metric');

const metricsSchema = z.object({
  scope: z.object({
    service: z.string().optional(),
    team: z.string().optional(),
    services: z.array(z.string()).optional().describe('the services in scope; absent: every service'),
  }),
  period: z.object({
    from: z.string().describe('first day (YYYY-MM-DD) in the zone'),
    to: z.string().describe('last day, inclusive'),
    timeZone: z.string(),
    days: z.number().int(),
    fromTime: z.string(),
    toTime: z.string().describe('the instant after the last day'),
  }),
  benchmark: z.object({ year: z.number().int(), source: z.string() }),
  deploymentFrequency: z.object({
    count: z.number().int(),
    perDay: z.number(),
    perWeek: z.number(),
    level: levelSchema,
  }),
  leadTime: z.object({
    changes: z.number().int(),
    excluded: z.number().int().describe('changes with a lead time ≤ 0, left out'),
    medianMs: z.number().nullable(),
    p90Ms: z.number().nullable(),
    level: levelSchema,
  }),
  changeFailRate: z.object({
    deployments: z.number().int(),
    failed: z.number().int(),
    rate: z.number().nullable(),
    level: levelSchema,
  }),
  recoveryTime: z.object({
    failed: z.number().int(),
    recovered: z.number().int(),
    medianMs: z.number().nullable(),
    p90Ms: z.number().nullable(),
    level: levelSchema,
  }),
  reworkRate: z.object({
    deployments: z.number().int(),
    unplanned: z.number().int(),
    rate: z.number().nullable(),
    level: levelSchema,
  }),
  weeks: z.array(
    z.object({
      start: z.string().describe("the week's Monday (YYYY-MM-DD) in the zone"),
      deployments: z.number().int(),
      leadTimeMedianMs: z.number().nullable(),
      changeFailRate: z.number().nullable(),
      recoveryMedianMs: z.number().nullable(),
      reworkRate: z.number().nullable(),
    }),
  ),
});

function metricsView(
  m: DeliveryMetrics,
  scope: z.output<typeof metricsSchema>['scope'],
  days: { from: string; to: string },
): z.output<typeof metricsSchema> {
  return {
    scope,
    period: {
      from: days.from,
      to: days.to,
      timeZone: m.period.timeZone,
      days: m.period.days,
      fromTime: iso(m.period.fromMs),
      toTime: iso(m.period.toMs),
    },
    benchmark: { ...m.benchmark },
    deploymentFrequency: { ...m.deploymentFrequency },
    leadTime: { ...m.leadTime },
    changeFailRate: { ...m.changeFailRate },
    recoveryTime: { ...m.recoveryTime },
    reworkRate: { ...m.reworkRate },
    weeks: m.weeks.map(({ startMs: _startMs, ...week }) => ({ ...week })),
  };
}

/** Most deployments one batch records (one transaction). */
export const MAX_BATCH = 1_000;

/** An API body (one deployment) as the service takes it: times in ms, shas in lower case. */
function recordInput(b: z.output<typeof deploymentBodySchema>): RecordDeploymentInput {
  return {
    ...(b.id === undefined ? {} : { id: b.id }),
    service: b.service,
    environment: b.environment,
    version: b.version,
    headSha: b.headSha?.toLowerCase(),
    commits: b.commits?.map((c) => ({
      sha: c.sha.toLowerCase(),
      committedAtMs: Date.parse(c.timestamp),
      author: c.author,
      message: c.message,
    })),
    startedAtMs: b.startedAt === undefined ? undefined : Date.parse(b.startedAt),
    finishedAtMs: Date.parse(b.finishedAt),
    status: b.status,
    kind: b.kind,
    url: b.url,
    fixes: b.fixes,
  };
}

export function deliveryRoutes(deps: DeliveryDeps) {
  return (app: App) => {
    const api = app.withTypeProvider<ZodTypeProvider>();
    const actor = (request: { principal?: { name: string } | undefined }) =>
      request.principal?.name ?? 'anonymous';

    api.post(
      '/api/v1/deployments',
      {
        config: { minRole: 'editor' },
        schema: {
          tags: ['delivery'],
          summary: 'Record a deployment (idempotent by id or Idempotency-Key; a later status updates it)',
          headers: z
            .object({
              'idempotency-key': deploymentId.optional().describe('used as the id when the body has none'),
              'x-shinrai-source': z.enum(['cli', 'gate']).optional().describe('set by the CLI'),
            })
            .loose(),
          body: deploymentBodySchema,
          response: { 200: deploymentSchema, 201: deploymentSchema },
        },
      },
      async (request, reply) => {
        const b = request.body;
        const id = b.id ?? request.headers['idempotency-key'];
        const { deployment, outcome } = await recordDeployment(
          deps,
          recordInput({ ...b, ...(id === undefined ? {} : { id }) }),
          {
            name: actor(request),
            source: request.headers['x-shinrai-source'] ?? 'api',
            audit: actorOf(request),
          },
        );
        if (outcome === 'unchanged') reply.header('idempotent-replayed', 'true');
        return reply.code(outcome === 'created' ? 201 : 200).send(deploymentView(deployment));
      },
    );

    api.post(
      '/api/v1/deployments/batch',
      {
        config: { minRole: 'editor' },
        schema: {
          tags: ['delivery'],
          summary:
            'Record up to 1,000 deployments in one transaction (a backfill): all or none, idempotent by id',
          headers: z
            .object({ 'x-shinrai-source': z.enum(['cli', 'gate']).optional().describe('set by the CLI') })
            .loose(),
          body: z.strictObject({
            deployments: z
              .array(
                deploymentBodySchema.extend({
                  id: deploymentId.describe('required in a batch: a retry of the batch changes nothing'),
                }),
              )
              .min(1)
              .max(MAX_BATCH),
          }),
          response: {
            200: z.object({
              created: z.number().int(),
              updated: z.number().int(),
              unchanged: z.number().int(),
              results: z.array(
                z.object({ id: z.string(), outcome: z.enum(['created', 'updated', 'unchanged']) }),
              ),
            }),
          },
        },
      },
      async (request) => {
        const results = await recordDeployments(deps, request.body.deployments.map(recordInput), {
          name: actor(request),
          source: request.headers['x-shinrai-source'] ?? 'api',
          audit: actorOf(request),
        });
        const count = (outcome: string) => results.filter((r) => r.outcome === outcome).length;
        return {
          created: count('created'),
          updated: count('updated'),
          unchanged: count('unchanged'),
          results: results.map((r) => ({ id: r.deployment.id, outcome: r.outcome })),
        };
      },
    );

    api.get(
      '/api/v1/deployments',
      {
        schema: {
          tags: ['delivery'],
          summary:
            'Deployments, newest first, with failure and the budget each SLO burned after versus before',
          querystring: z.object({
            service: name.optional(),
            team: name.optional().describe('services whose spec owner is this team'),
            environment: name.optional(),
            production: z.stringbool().optional(),
            from: isoTime.optional(),
            to: isoTime.optional(),
            burnedOver: z.coerce
              .number()
              .positive()
              .max(100)
              .optional()
              .describe(
                'only deployments whose hours after burned more than this share (0.05 = 5%) of a budget',
              ),
            impact: z
              .stringbool()
              .default(true)
              .describe('false: leave out the budget impact (cheaper, for tools that only need the list)'),
            limit: z.coerce.number().int().min(1).max(500).default(50),
            before: z.string().max(400).optional().describe('nextBefore of the previous page'),
          }),
          response: {
            200: z.object({ deployments: z.array(impactSchema), nextBefore: z.string().optional() }),
          },
        },
      },
      async (request) => {
        const q = request.query;
        const services = scopeServices(deps, q);
        const { items, next } = await deploymentsWithImpact(
          deps,
          {
            services,
            environment: q.environment,
            production: q.production,
            fromMs: q.from === undefined ? undefined : Date.parse(q.from),
            toMs: q.to === undefined ? undefined : Date.parse(q.to),
            before: q.before === undefined ? undefined : parseCursor(q.before),
            limit: q.limit,
          },
          { burnedOverShare: q.burnedOver, withBudget: q.impact },
        );
        return {
          deployments: items.map(impactView),
          ...(next ? { nextBefore: `${next.finishedAtMs}:${next.id}` } : {}),
        };
      },
    );

    api.get(
      '/api/v1/delivery/metrics',
      {
        schema: {
          tags: ['delivery'],
          summary:
            'DORA metrics (deployment frequency, lead time, change fail rate, recovery time, rework rate) with levels and weekly points',
          description: 'Definitions: docs/delivery.md. Without service or team: every service.',
          querystring: z.object({
            service: name.optional(),
            team: name.optional().describe('the services whose spec owner is this team'),
            from: z
              .string()
              .max(10)
              .optional()
              .describe('first day, YYYY-MM-DD in tz (default: 90 days before to)'),
            to: z.string().max(10).optional().describe('last day, inclusive (default: today in tz)'),
            tz: z.string().max(100).optional().describe('IANA time zone (default: incidents.timeZone)'),
            benchmark: z.coerce
              .number()
              .int()
              .optional()
              .describe(
                `DORA report year: ${BENCHMARK_YEARS.join(', ')} (default: delivery.benchmarkYear, else the latest)`,
              ),
          }),
          response: { 200: metricsSchema },
        },
      },
      async (request) => {
        const q = request.query;
        const timeZone = q.tz ?? deps.defaultTimeZone;
        const today = DateTime.fromMillis(deps.clock.now(), { zone: timeZone });
        const to = q.to ?? (today.isValid ? today.toISODate()! : '');
        const from = q.from ?? DateTime.fromISO(to, { zone: timeZone }).minus({ days: 89 }).toISODate() ?? to;
        const services = scopeServices(deps, q);
        const metrics = await deliveryMetrics(deps, {
          services,
          from,
          to,
          timeZone,
          benchmarkYear: q.benchmark,
        });
        return metricsView(
          metrics,
          {
            ...(q.service === undefined ? {} : { service: q.service }),
            ...(q.team === undefined ? {} : { team: q.team }),
            ...(services === undefined ? {} : { services }),
          },
          { from, to },
        );
      },
    );

    api.get(
      '/api/v1/deployments/:id',
      {
        schema: {
          tags: ['delivery'],
          summary: 'One deployment with failure and budget impact',
          params: z.object({ id: z.string().max(300) }),
          response: { 200: impactSchema },
        },
      },
      async (request) => {
        return impactView(await deploymentImpact(deps, await getDeployment(deps, request.params.id)));
      },
    );

    api.get(
      '/api/v1/incidents/:ref/suspects',
      {
        schema: {
          tags: ['incidents', 'delivery'],
          summary:
            'Suggested causes: the last production deployment of each affected service before the impact started (confirm one with PATCH causedBy)',
          params: z.object({ ref: z.string().max(100) }),
          response: {
            200: z.object({
              suspects: z.array(deploymentSchema.extend({ reason: z.string() })),
            }),
          },
        },
      },
      async (request) => {
        const list = await suspects(deps, request.params.ref);
        return {
          suspects: list.map((d) => ({
            ...deploymentView(d),
            reason: `the last production deployment of ${d.service} before the impact started (within ${deps.settings.suspectWindowHours} h)`,
          })),
        };
      },
    );
  };
}

/** The services a query names: a team's (narrowed to `service` when both are given), one service, or all (undefined). */
function scopeServices(
  deps: DeliveryDeps,
  q: { readonly service?: string | undefined; readonly team?: string | undefined },
): string[] | undefined {
  if (q.team !== undefined)
    return servicesOfTeam(deps.catalog(), q.team).filter((s) => q.service === undefined || s === q.service);
  return q.service === undefined ? undefined : [q.service];
}

function parseCursor(text: string): { finishedAtMs: number; id: string } {
  const at = text.indexOf(':');
  const finishedAtMs = Number(text.slice(0, at));
  if (at < 1 || !Number.isSafeInteger(finishedAtMs))
    throw new AppError('Invalid', 'before: use nextBefore from the previous page', [
      { field: 'before', message: 'not a cursor' },
    ]);
  return { finishedAtMs, id: text.slice(at + 1) };
}
